using System.Text.Json.Nodes;
using Virt.Tests.Support;
using Xunit.Abstractions;

namespace Virt.Tests.Harness;

/// <summary>
/// The hand-written scenarios, one directory each under Harness/Scenarios (README.md, scenario.json), as
/// pve-ha-manager's src/test/test-* are: a fresh cluster in the shared lab per scenario, its VMs deployed, the steps
/// run, then the expected outcome awaited and the checker's invariants asserted.
/// </summary>
[Collection(HarnessCollection.Name)]
public sealed class ScenarioTests(LabFixture fixture, ITestOutputHelper output) : IClassFixture<LabFixture>
{
    private static readonly string Root = Path.Combine(Binaries.RepoRoot, "Virt.Tests", "Harness", "Scenarios");

    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Root).Order(StringComparer.Ordinal).Where(d => ScenarioReader.Read(d).Skip is null))
            names.Add(Path.GetFileName(dir));
        return names;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public Task Scenario(string name) => Run(name);

    private async Task Run(string name)
    {
        var scenario = ScenarioReader.Read(Path.Combine(Root, name));
        output.WriteLine($"{name}: {scenario.Description}");
        await using var cluster = await LabCluster.Start(fixture.Lab, new LabClusterOptions(scenario.Hosts, scenario.Etcd, scenario.FenceLevels));
        try
        {
            await cluster.Deploy(scenario.Vms);
            var runner = new StepRunner(cluster, scenario.Vms);
            foreach (var step in scenario.Steps)
                await runner.Run(step);
            await Expect(cluster, scenario.Expect);
            await cluster.Checker.CheckAcknowledged(cluster.Vm, StepRunner.Budget);
            await cluster.Checker.Settle();
            output.WriteLine(cluster.Checker.HistoryExcerpt(200));
            cluster.Checker.AssertNoViolations($"scenario {name}: ");
        }
        finally
        {
            await StepRunner.EtcdUp(fixture.Lab.Etcd); // the next scenario's etcd
        }
    }

    private static async Task Expect(LabCluster cluster, Expectation expect)
    {
        var problems = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            problems.Clear();
            foreach (var (vm, x) in expect.Vms)
            {
                var view = await cluster.Vm(vm);
                if (view is null)
                {
                    problems.Add($"{vm}: no host shows it");
                    continue;
                }

                Check(problems, vm, "state", x.State, view["state"]?.GetValue<string>());
                Check(problems, vm, "desired", x.Desired, view["desired"]?.GetValue<string>());
                if (x.LastError is not null && !(view["lastError"]?.GetValue<string>() ?? "").Contains(x.LastError, StringComparison.Ordinal))
                    problems.Add($"{vm}: lastError '{view["lastError"]}' does not say '{x.LastError}'");
                if (x.On is not null)
                {
                    var on = cluster.Checker.RunningOnAnsweringHosts().GetValueOrDefault(vm) ?? [];
                    if (on.Length != 1 || !x.On.Contains(on[0]))
                        problems.Add($"{vm}: runs on [{string.Join(',', on)}] (read from the hosts' libvirt), expected one of [{string.Join(',', x.On)}]");
                }
            }

            var fences = await cluster.Fences();
            if (fences is null)
                problems.Add("no host lists the fences");
            foreach (var (host, level) in expect.Fenced)
            {
                if (fences?.Any(f => f!["host"]!.GetValue<string>() == host && f["state"]!.GetValue<string>() == "fenced" && f["level"]?.GetValue<string>() == level) != true)
                    problems.Add($"{host} not fenced by {level}: {fences?.ToJsonString()}");
            }

            if (expect.NoFences && fences is { Count: > 0 })
                problems.Add($"fence records appeared: {fences.ToJsonString()}");
            foreach (var host in expect.Down.Where(h => cluster[h].IsRunning))
                problems.Add($"{host}'s virt-node still runs");
            if (expect.Members is { } members)
            {
                foreach (var host in members)
                {
                    var seen = await cluster.MembersSeenBy(cluster[host]);
                    if (seen is null || !seen.SequenceEqual(members.Order(StringComparer.Ordinal)))
                        problems.Add($"{host} sees the members [{string.Join(',', seen ?? [])}], expected [{string.Join(',', members)}]");
                }
            }

            if (problems.Count == 0)
                return;
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"expected outcome not reached within 60 s:\n  {string.Join("\n  ", problems)}\nhistory:\n{cluster.Checker.HistoryExcerpt(80)}\n{cluster.Diagnostics()}");
            await Task.Delay(250);
        }
    }

    private static void Check(List<string> problems, string vm, string field, string? expected, string? actual)
    {
        if (expected is not null && expected != actual)
            problems.Add($"{vm}: {field} is {actual ?? "(none)"}, expected {expected}");
    }
}
