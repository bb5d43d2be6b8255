using System.Globalization;
using Xunit.Abstractions;

namespace Virt.Tests.Harness;

/// <summary>
/// Seeded random fault schedules (<see cref="RandomSchedule"/>) on one long-lived cluster of three hosts with power
/// fencing, keep-majority (VIRT_HARNESS_ETCD=1: on etcd, lease-majority, with etcd member loss among the faults):
/// VIRT_HARNESS_SCHEDULES=N runs N (default 4), each seed printed;
/// VIRT_HARNESS_SEED=N replays one (N,M,... a sequence, since the schedules share one cluster). After every schedule the invariants must hold; a failure names the seed and the
/// schedule.
/// </summary>
[Collection(HarnessCollection.Name)]
public sealed class RandomScheduleTests(LabFixture fixture, ITestOutputHelper output) : IClassFixture<LabFixture>
{
    private static readonly LabVm[] Vms = Enumerable.Range(1, 6).Select(i => new LabVm($"r{i}", Host: LabCluster.HostName(i % 3))).ToArray();

    [RandomSchedulesFact]
    public async Task Seeded_random_fault_schedules_never_run_a_vm_twice_lose_no_acknowledged_command_and_restart_ha_vms_within_the_budget()
    {
        var seeds = Seeds();
        output.WriteLine($"seeds: {string.Join(' ', seeds)} (replay one with VIRT_HARNESS_SEED=<seed>)");
        // Any one host holds all six VMs (6 x 512 MiB, 6 vCPUs), so every HA VM fits somewhere after any single fault.
        var etcd = Environment.GetEnvironmentVariable("VIRT_HARNESS_ETCD") == "1";
        await using var cluster = await LabCluster.Start(fixture.Lab, new LabClusterOptions([(8, 8192), (8, 8192), (8, 8192)], Etcd: etcd));
        await cluster.Deploy(Vms);
        var runner = new StepRunner(cluster, Vms);
        var hosts = cluster.Hosts.Select(h => h.Name).ToList();
        var names = Vms.Select(v => v.Name).ToList();
        var started = DateTime.UtcNow;
        foreach (var seed in seeds)
        {
            var schedule = RandomSchedule.Generate(seed, hosts, names, etcd);
            var at = DateTime.UtcNow;
            output.WriteLine($"seed {seed}: {string.Join("; ", schedule)}");
            try
            {
                foreach (var step in schedule)
                    await runner.Run(step);
                await cluster.Checker.CheckAcknowledged(cluster.Vm, StepRunner.Budget);
                cluster.Checker.AssertNoViolations();
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed} failed (rerun: VIRT_HARNESS_SEED={seed}, or the run so far: VIRT_HARNESS_SEED={string.Join(',', seeds.TakeWhile(s => s != seed).Append(seed))}); schedule: {string.Join("; ", schedule)}\n{ex.Message}");
            }
            finally
            {
                await StepRunner.EtcdUp(fixture.Lab.Etcd);
            }

            output.WriteLine($"seed {seed}: ok in {(DateTime.UtcNow - at).TotalSeconds:0.0} s");
        }

        output.WriteLine($"{seeds.Count} schedules in {(DateTime.UtcNow - started).TotalSeconds:0} s");
    }

    /// <summary>Schedules in the default run: about 15 s each, on top of one cluster's start.</summary>
    private const int DefaultCount = 4;

    private static List<int> Seeds()
    {
        if (Environment.GetEnvironmentVariable("VIRT_HARNESS_SEED") is { Length: > 0 } given)
            return given.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList(); // one seed, or a run's sequence: 5,6,7
        var count = Environment.GetEnvironmentVariable("VIRT_HARNESS_SCHEDULES") is { Length: > 0 } n ? int.Parse(n, CultureInfo.InvariantCulture) : DefaultCount;
        var first = Random.Shared.Next(1, 1_000_000);
        return Enumerable.Range(0, Math.Max(1, count)).Select(i => first + i).ToList();
    }
}

/// <summary>
/// The random schedules run in every test run (4 of them, new seeds each time: a failure prints the seed and the
/// sequence to replay). What kept them out of the default run does not recur: the entity that answered nothing for
/// 30 s after a SIGSTOP and power fence (seeds 397750..397765 pass), and seed 582386, whose host was revived before
/// its old incarnation was fenced (the harness's 'converged' took an unreachable member for gone; now it waits).
/// </summary>
internal sealed class RandomSchedulesFactAttribute : FactAttribute;
