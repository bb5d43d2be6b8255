namespace Virt.Tests.Harness;

/// <summary>
/// A hand-written harness scenario (Harness/Scenarios/NAME/scenario.json): the initial state (hosts, VMs, fencing,
/// etcd), the steps (faults and waits), and the expected outcome. Read by <see cref="ScenarioReader"/>.
/// </summary>
public sealed record Scenario(
    string Name,
    string Description,
    IReadOnlyList<(int Cpus, long MemoryMib)> Hosts,
    bool Etcd,
    IReadOnlyList<string> FenceLevels,
    IReadOnlyList<LabVm> Vms,
    IReadOnlyList<Step> Steps,
    Expectation Expect)
{
    /// <summary>Why the scenario does not run for now (a product bug it found, named with what to fix); null: it runs.</summary>
    public string? Skip { get; init; }
}

/// <summary>
/// One step: a fault (<c>kill9</c>, <c>power-off</c>, <c>stop</c>, <c>cont</c>, <c>link-down</c>, <c>link-up</c>,
/// <c>drop</c> to another host, <c>heal</c>, <c>restart</c>, <c>etcd-member-down</c>/<c>-up</c>, <c>etcd-down</c>/<c>-up</c>,
/// <c>postgres-restart</c>), a wait (<c>fenced</c>, <c>recovered</c>, <c>exited</c>, <c>members</c>, <c>converged</c>,
/// <c>for</c> a number of seconds: the length of a fault, never a stand-in for a condition), or a command
/// (<c>start</c>/<c>stop</c> of a VM).
/// </summary>
public sealed record Step(StepKind Kind, string What, string? Host = null, string? To = null, int? Member = null, double? Seconds = null, string? Vm = null, IReadOnlyList<string>? Hosts = null)
{
    public override string ToString() => Kind switch
    {
        StepKind.Fault => $"fault {What}" + (Host is null ? "" : $" {Host}") + (To is null ? "" : $" -> {To}") + (Member is null ? "" : $" member {Member}"),
        StepKind.Wait => $"wait {What}" + (Host is null ? "" : $" {Host}") + (Seconds is null ? "" : $" {Seconds} s") + (Hosts is null ? "" : $" [{string.Join(',', Hosts)}]"),
        _ => $"{What} {Vm}",
    };
}

public enum StepKind
{
    Fault,
    Wait,
    Command,
}

/// <summary>What must hold at the end (each awaited up to a deadline, since the cluster converges).</summary>
/// <param name="Vms">Per VM: its state, desired state, hosts it may run on, and a piece of its last error.</param>
/// <param name="Fenced">Hosts that must have a confirmed fence, by the level given.</param>
/// <param name="NoFences">No fence record at all.</param>
/// <param name="Members">Exactly these hosts are up members, as each of them sees it.</param>
/// <param name="Down">Hosts whose virt-node is not running.</param>
public sealed record Expectation(
    IReadOnlyDictionary<string, VmExpectation> Vms,
    IReadOnlyList<(string Host, string Level)> Fenced,
    bool NoFences,
    IReadOnlyList<string>? Members,
    IReadOnlyList<string> Down);

public sealed record VmExpectation(string? State, string? Desired, IReadOnlyList<string>? On, string? LastError);
