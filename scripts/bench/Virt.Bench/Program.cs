using Virt.Bench;

// Figures the issues ask for. Run: scripts/bench/run [suite...]; no timing is ever asserted in tests.
var suites = new Dictionary<string, Func<Task>>(StringComparer.OrdinalIgnoreCase)
{
    ["persistence"] = PersistenceBench.Run,
    ["scheduler"] = SchedulerBench.Run,
    ["pacemaker"] = PacemakerComparison.Run,
    ["lifecycle"] = LifecycleBench.Run,
    ["cluster"] = ClusterBench.Run,
    ["shell"] = ShellBench.Run,
    ["ceph"] = RbdBench.Run,
    ["failover"] = FailoverBench.Run,
};
var chosen = args.Length == 0 ? suites.Keys.ToArray() : args;
foreach (var name in chosen)
{
    if (!suites.TryGetValue(name, out var run))
    {
        Console.Error.WriteLine($"unknown suite '{name}'; known: {string.Join(", ", suites.Keys)}");
        return 2;
    }

    Console.WriteLine($"== {name} ({Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd})");
    await run();
}

return 0;
