namespace Virt.Tests.Harness;

/// <summary>
/// A seeded random fault schedule: the same seed gives the same steps. One fault per schedule, drawn from kill -9,
/// power off, SIGSTOP (SIGCONT later), link down/up, etcd member loss and a PostgreSQL restart, with
/// start/stop commands before, during and after it; then a wait for recovery and convergence (bounded), the heal,
/// the restart of every host that is down (a new incarnation), and convergence again.
/// </summary>
public static class RandomSchedule
{
    // Every fault the harness has is drawn: the one-way drop and the PostgreSQL restart too, since the one-way-drop
    // scenario passes and 20 schedules with both drawn passed (the one that failed, seed 871492, was a shard rebalance
    // caught by a SIGSTOP, now off: see akka.cluster.sharding in hocon/virt.conf).
    private static readonly string[] Faults = ["kill9", "power-off", "stop", "link-down", "drop", "postgres-restart"];

    /// <param name="etcd">The cluster runs on etcd: etcd member loss is a fault too.</param>
    public static IReadOnlyList<Step> Generate(int seed, IReadOnlyList<string> hosts, IReadOnlyList<string> vms, bool etcd = false)
    {
        var random = new Random(seed);
        string[] faults = etcd ? [.. Faults, "etcd-member-down"] : Faults;
        var steps = new List<Step>();
        Step Command() => new(StepKind.Command, random.Next(10) < 7 ? "start" : "stop", Vm: vms[random.Next(vms.Count)]);

        for (var i = random.Next(1, 3); i > 0; i--)
            steps.Add(Command());
        var fault = faults[random.Next(faults.Length)];
        var victim = hosts[random.Next(hosts.Count)];
        var other = hosts.Where(h => h != victim).ElementAt(random.Next(hosts.Count - 1));
        var member = random.Next(3);
        steps.Add(fault switch
        {
            "drop" => new Step(StepKind.Fault, fault, victim, To: other),
            "etcd-member-down" => new Step(StepKind.Fault, fault, Member: member),
            "postgres-restart" => new Step(StepKind.Fault, fault),
            _ => new Step(StepKind.Fault, fault, victim),
        });
        if (random.Next(2) == 0)
            steps.Add(Command());
        steps.Add(new Step(StepKind.Wait, "recovered"));
        steps.Add(new Step(StepKind.Wait, "converged"));
        steps.AddRange(fault switch
        {
            "stop" => [new Step(StepKind.Fault, "cont", victim)],
            "link-down" or "drop" => [new Step(StepKind.Fault, "heal", victim)],
            "etcd-member-down" => [new Step(StepKind.Fault, "etcd-member-up", Member: member)],
            _ => [],
        });
        steps.Add(new Step(StepKind.Fault, "revive"));
        steps.Add(Command());
        steps.Add(new Step(StepKind.Wait, "converged"));
        return steps;
    }
}
