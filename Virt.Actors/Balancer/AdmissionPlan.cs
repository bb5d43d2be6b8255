using Virt.Actors.Vm;
using Virt.Scheduler;
using SchedulerVm = Virt.Scheduler.VmSpec;

namespace Virt.Actors.Balancer;

/// <summary>A start the balancer granted that the journal does not show yet: its capacity is held meanwhile.</summary>
public sealed record Grant(string Vm, long Op, string Node, int Vcpus, long MemoryMib, int Priority, bool Ha, DateTimeOffset At);

/// <summary>
/// Where one VM may start, as a pure function of what the balancer knows: it builds the placement engine's problem
/// (hosts with capacity and overcommit, every VM that holds capacity, the VM to place) and reads the engine's answer,
/// so a refusal is in the same words as <c>virt plan</c> (<c>hv-1: memory needs 8192 MiB, 6144 free</c>).
/// </summary>
public static class AdmissionPlan
{
    /// <returns>Per request (by VM name): the host to start on, or null with the reason per host.</returns>
    /// <remarks>
    /// Requests are decided together in one plan (by priority, as the engine places), so a burst of starts (a host's
    /// VMs after it restarted) costs one engine run, not one per VM.
    /// </remarks>
    public static IReadOnlyDictionary<string, (string? Node, string? Reason)> Decide(
        IReadOnlyCollection<BalancerProtocol.PlaceVm> requests,
        IReadOnlyCollection<BalancerProtocol.HostReport> hosts,
        IEnumerable<VmState> vms,
        IEnumerable<Grant> grants,
        BalancerOptions options)
    {
        var asked = requests.Select(r => r.Vm).ToHashSet(StringComparer.Ordinal);
        if (hosts.Count == 0)
            return asked.ToDictionary(v => v, _ => ((string?)null, (string?)"no host has reported to the balancer yet"), StringComparer.Ordinal);

        // Only what runs on a host the balancer knows: the engine refuses a VM on an unknown node.
        var known = hosts.Select(h => h.Node).ToHashSet(StringComparer.Ordinal);
        var placed = new Dictionary<string, SchedulerVm>(StringComparer.Ordinal);
        foreach (var vm in vms)
        {
            if (vm.OnHost && !asked.Contains(vm.Spec!.Name) && known.Contains(vm.Node!))
                placed[vm.Spec.Name] = Demand(vm.Spec.Name, vm.Spec.Vcpus, vm.Spec.MemoryMib, vm.Spec.Priority, vm.Spec.Restart != RestartPolicy.Never, vm.Node);
        }

        foreach (var g in grants)
        {
            if (!asked.Contains(g.Vm) && known.Contains(g.Node))
                placed[g.Vm] = Demand(g.Vm, g.Vcpus, g.MemoryMib, g.Priority, g.Ha, g.Node);
        }

        var pending = requests.GroupBy(r => r.Vm, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        var answers = new Dictionary<string, (string? Node, string? Reason)>(StringComparer.Ordinal);
        foreach (var r in pending.Where(r => r.Pin is not null && !known.Contains(r.Pin)).ToList())
        {
            answers[r.Vm] = (null, $"{r.Pin}: not a host of this cluster, or it has not reported to the balancer (virt cluster show lists the members)");
            pending.Remove(r);
        }

        if (pending.Count == 0)
            return answers;

        // A pinned VM may only go to its host: a location rule on the host's name, as Pacemaker pins to #uname.
        var pins = pending.Where(r => r.Pin is not null)
            .Select(r => (PlacementRule)new LocationRule($"--node {r.Pin}", [r.Vm], double.PositiveInfinity, new AttributeTest(HostName, AttributeOp.Eq, r.Pin)))
            .ToList();
        var problem = new PlacementProblem(
            hosts.OrderBy(h => h.Node, StringComparer.Ordinal).Select(Node).ToList(),
            [.. placed.Values, .. pending.Select(r => Demand(r.Vm, r.Vcpus, r.MemoryMib, r.Priority, r.Ha, null))],
            pins,
            new PlanAction.Place(),
            new PlacementPolicy(options.Strategy == "pack" ? PlacementStrategy.Pack : PlacementStrategy.Balanced),
            new Dictionary<string, double>
            {
                ["vcpu"] = options.Overcommit.GetValueOrDefault("vcpu", 1.0),
                ["memory_mib"] = options.Overcommit.GetValueOrDefault("memory", 1.0),
            },
            options.ReserveFailures);
        var result = PlacementEngine.Plan(problem);
        var started = result.Decisions.Where(d => d.Kind == DecisionKind.Start && d.To is not null).ToDictionary(d => d.Vm, d => d.To!, StringComparer.Ordinal);
        var unplaced = result.Unplaced.ToDictionary(u => u.Vm, u => u.Reasons, StringComparer.Ordinal);
        var byName = hosts.ToDictionary(h => h.Node, StringComparer.Ordinal);
        foreach (var r in pending)
        {
            if (started.TryGetValue(r.Vm, out var node))
                answers[r.Vm] = (node, null);
            else if (unplaced.TryGetValue(r.Vm, out var reasons) && reasons.Count > 0)
                answers[r.Vm] = (null, string.Join("; ", reasons.Where(x => r.Pin is null || x.Key == r.Pin).Select(x => $"{x.Key}: {Reason(byName[x.Key], x.Value)}")));
            else
                answers[r.Vm] = (null, "the placement engine placed it nowhere and gave no reason");
        }

        return answers;
    }

    /// <summary>The engine says "down" or "maintenance" for a host that takes nothing; say why in Virt's terms.</summary>
    private static string Reason(BalancerProtocol.HostReport host, string engine) =>
        !host.Available ? "libvirt is unreachable there" : host.State == HostState.Standby ? "in standby (takes no new VMs)" : engine;

    /// <summary>The attribute every host has: its own name (what <c>--node</c> pins to).</summary>
    public const string HostName = "#name";

    private static NodeSpec Node(BalancerProtocol.HostReport h) => new(
        h.Node,
        new Dictionary<string, double> { ["vcpu"] = h.Cpus, ["memory_mib"] = h.MemoryMib },
        new Dictionary<string, string>(h.Attributes, StringComparer.Ordinal) { [HostName] = h.Node },
        !h.Available ? NodeState.Down : h.State == HostState.Standby ? NodeState.Maintenance : NodeState.Up);

    private static SchedulerVm Demand(string name, int vcpus, long memoryMib, int priority, bool ha, string? node) =>
        new(name, new Dictionary<string, double> { ["vcpu"] = vcpus, ["memory_mib"] = memoryMib }, priority, ha, node);
}
