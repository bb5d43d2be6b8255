using Virt.Actors.Vm;
using Virt.Scheduler;
using SchedulerVm = Virt.Scheduler.VmSpec;

namespace Virt.Actors.Balancer;

/// <summary>A start the balancer granted that the journal does not show yet: its capacity is held meanwhile.</summary>
public sealed record Grant(string Vm, long Op, string Node, int Vcpus, long MemoryMib, int Priority, bool Ha, DateTimeOffset At);

/// <summary>What the balancer knows, as the placement engine needs it: hosts, VMs, its own grants, the rules, the policy.</summary>
public sealed record BalancerPicture(
    IReadOnlyCollection<BalancerProtocol.HostReport> Hosts,
    IEnumerable<VmState> Vms,
    IEnumerable<Grant> Grants,
    IReadOnlyCollection<PlacementRule> Rules,
    BalancerOptions Options,
    DateTimeOffset Now);

/// <summary>
/// Where VMs may start, as pure functions of what the balancer knows: the placement engine's problem is built from
/// the picture (hosts with capacity and overcommit, every VM that holds capacity, the rules, the VMs to place), and the
/// engine's answer is read back, so a refusal is in the same words as <c>virt plan</c>
/// (<c>hv-1: memory needs 8192 MiB, 6144 free</c>) and a snapshot of the same picture gives <c>virt plan</c> the same input.
/// </summary>
public static class AdmissionPlan
{
    /// <summary>The attribute every host has: its own name (what <c>--node</c> pins to, as Pacemaker pins to #uname).</summary>
    public const string HostName = "#name";

    /// <returns>Per request (by VM name): the host to start on, or null with the reason per host.</returns>
    /// <remarks>
    /// Requests are decided together in one plan (by priority, as the engine places), so a burst of starts (a host's
    /// VMs after it restarted) costs one engine run, not one per VM.
    /// </remarks>
    public static IReadOnlyDictionary<string, (string? Node, string? Reason)> Decide(IReadOnlyCollection<BalancerProtocol.PlaceVm> requests, BalancerPicture picture)
    {
        var answers = new Dictionary<string, (string? Node, string? Reason)>(StringComparer.Ordinal);
        if (picture.Hosts.Count == 0)
        {
            foreach (var r in requests)
                answers[r.Vm] = (null, "no host is reporting to the balancer (none has yet, or each has been silent longer than virt.balancer.host-timeout)");
            return answers;
        }

        var known = picture.Hosts.Select(h => h.Node).ToHashSet(StringComparer.Ordinal);
        var pending = requests.GroupBy(r => r.Vm, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        foreach (var r in pending.Where(r => r.Pin is not null && !known.Contains(r.Pin)).ToList())
        {
            answers[r.Vm] = (null, $"{r.Pin}: not a host of this cluster, or it has not reported to the balancer (virt cluster show lists the members)");
            pending.Remove(r);
        }

        var problem = Problem(pending, picture, new PlanAction.Place(), out var cannot);
        foreach (var (vm, reason) in cannot)
        {
            answers[vm] = (null, reason);
            pending.RemoveAll(r => r.Vm == vm);
        }

        if (pending.Count == 0)
            return answers;
        var result = PlacementEngine.Plan(problem with { Vms = problem.Vms.Where(v => v.Node is not null || pending.Any(p => p.Vm == v.Name)).ToList() });
        var started = result.Decisions.Where(d => d.Kind == DecisionKind.Start && d.To is not null).ToDictionary(d => d.Vm, d => d.To!, StringComparer.Ordinal);
        var unplaced = result.Unplaced.ToDictionary(u => u.Vm, u => u.Reasons, StringComparer.Ordinal);
        foreach (var r in pending)
        {
            if (started.TryGetValue(r.Vm, out var node))
                answers[r.Vm] = (node, null);
            else if (unplaced.TryGetValue(r.Vm, out var reasons) && reasons.Count > 0)
                answers[r.Vm] = (null, Reasons(reasons.Where(x => r.Pin is null || x.Key == r.Pin), picture));
            else
                answers[r.Vm] = (null, "the placement engine placed it nowhere and gave no reason");
        }

        return answers;
    }

    /// <summary>
    /// The engine's problem for the picture: every VM on a known host as it is, plus <paramref name="pending"/> to place.
    /// Rules are cut to the VMs in the problem (a rule may name VMs that do not run, or do not exist yet); a VM that
    /// must follow (INFINITY) an anchor that does not run cannot start, and is in <paramref name="cannot"/> with why.
    /// </summary>
    public static PlacementProblem Problem(IReadOnlyCollection<BalancerProtocol.PlaceVm> pending, BalancerPicture picture, PlanAction action, out Dictionary<string, string> cannot)
    {
        var asked = pending.Select(r => r.Vm).ToHashSet(StringComparer.Ordinal);

        // Only what runs on a host the balancer knows: the engine refuses a VM on an unknown node.
        var known = picture.Hosts.Select(h => h.Node).ToHashSet(StringComparer.Ordinal);
        var vms = new Dictionary<string, SchedulerVm>(StringComparer.Ordinal);
        foreach (var vm in picture.Vms)
        {
            if (vm.OnHost && !asked.Contains(vm.Spec!.Name) && known.Contains(vm.Node!))
                vms[vm.Spec.Name] = Demand(vm.Spec.Name, vm.Spec.Vcpus, vm.Spec.MemoryMib, vm.Spec.Priority, vm.Spec.Restart != RestartPolicy.Never, vm.Node);
        }

        foreach (var g in picture.Grants)
        {
            if (!asked.Contains(g.Vm) && known.Contains(g.Node))
                vms[g.Vm] = Demand(g.Vm, g.Vcpus, g.MemoryMib, g.Priority, g.Ha, g.Node);
        }

        foreach (var r in pending)
            vms[r.Vm] = Demand(r.Vm, r.Vcpus, r.MemoryMib, r.Priority, r.Ha, null);

        cannot = new Dictionary<string, string>(StringComparer.Ordinal);
        var rules = new List<PlacementRule>();
        foreach (var rule in picture.Rules)
        {
            if (Cut(rule, vms.Keys) is { } kept)
                rules.Add(kept);
            if (rule is ColocationRule { With: { } anchor, Score: var score } follow && !vms.ContainsKey(anchor) && score == double.PositiveInfinity)
            {
                foreach (var vm in follow.Vms.Where(asked.Contains))
                    cannot[vm] = $"it must run with {anchor} (rule {follow.Name}, INFINITY), which does not run";
            }
        }

        // A pinned VM may only go to its host: a location rule on the host's name, one per VM (rule names are unique:
        // two starts pinned to one host in one plan made the engine refuse the whole problem).
        rules.AddRange(pending.Where(r => r.Pin is not null)
            .Select(r => new LocationRule($"--node {r.Pin} ({r.Vm})", [r.Vm], double.PositiveInfinity, new AttributeTest(HostName, AttributeOp.Eq, r.Pin))));
        var options = picture.Options;
        return new PlacementProblem(
            picture.Hosts.OrderBy(h => h.Node, StringComparer.Ordinal).Select(Node).ToList(),
            vms.Values.OrderBy(v => v.Name, StringComparer.Ordinal).ToList(),
            rules,
            action,
            new PlacementPolicy(options.Strategy == "pack" ? PlacementStrategy.Pack : PlacementStrategy.Balanced),
            new Dictionary<string, double>
            {
                ["vcpu"] = options.Overcommit.GetValueOrDefault("vcpu", 1.0),
                ["memory_mib"] = options.Overcommit.GetValueOrDefault("memory", 1.0),
            },
            options.ReserveFailures,
            picture.Now);
    }

    /// <summary>What the engine says of one VM: where it would start now and why, or why it can start nowhere.</summary>
    public static string Explain(VmState vm, BalancerPicture picture)
    {
        var spec = vm.Spec!;
        var request = new BalancerProtocol.PlaceVm(spec.Name, vm.Op, spec.Vcpus, spec.MemoryMib, spec.Priority, spec.Restart != RestartPolicy.Never);
        var where = vm.OnHost ? $"{spec.Name} runs on {vm.Node}. Placed anew now" : $"{spec.Name} is {Lower(vm.Phase)}. Started now";
        if (picture.Hosts.Count == 0)
            return $"{where}: no host is reporting to the balancer (none has yet, or each has been silent longer than virt.balancer.host-timeout)";
        var problem = Problem([request], picture, new PlanAction.Place(), out var cannot);
        if (cannot.TryGetValue(spec.Name, out var reason))
            return $"{where}: it could not start: {reason}";
        var result = PlacementEngine.Plan(problem);
        if (result.Decisions.FirstOrDefault(d => d.Vm == spec.Name && d.Kind == DecisionKind.Start) is { } decision)
            return $"{where}, it would go to {decision.To}: {decision.Why}";
        var unplaced = result.Unplaced.FirstOrDefault(u => u.Vm == spec.Name)?.Reasons;
        return $"{where}, it would go nowhere: {(unplaced is { Count: > 0 } ? Reasons(unplaced, picture) : "the engine gave no reason")}";
    }

    /// <summary>A rule restricted to the VMs in the problem; null when nothing of it applies.</summary>
    private static PlacementRule? Cut(PlacementRule rule, IEnumerable<string> present)
    {
        var here = present.ToHashSet(StringComparer.Ordinal);
        var vms = rule.Vms.Where(here.Contains).ToList();
        return rule switch
        {
            LocationRule l => vms.Count > 0 ? l with { Vms = vms } : null,
            ColocationRule { With: { } anchor } c => here.Contains(anchor) && vms.Count > 0 ? c with { Vms = vms } : null,
            ColocationRule c => vms.Count >= 2 ? c with { Vms = vms } : null,
            OrderRule o => o.StartAfter.Where(here.Contains).ToList() is { Count: > 0 } after && vms.Count > 0 ? o with { Vms = vms, StartAfter = after } : null,
            _ => null,
        };
    }

    private static string Reasons(IEnumerable<KeyValuePair<string, string>> reasons, BalancerPicture picture)
    {
        var byName = picture.Hosts.ToDictionary(h => h.Node, StringComparer.Ordinal);
        return string.Join("; ", reasons.Select(x => $"{x.Key}: {Reason(byName[x.Key], x.Value)}"));
    }

    /// <summary>The engine says "down" or "maintenance" for a host that takes nothing; say why in Virt's terms.</summary>
    private static string Reason(BalancerProtocol.HostReport host, string engine) =>
        !host.Available ? "libvirt is unreachable there" : host.State == HostState.Standby ? "in standby (takes no new VMs)" : engine;

    private static NodeSpec Node(BalancerProtocol.HostReport h) => new(
        h.Node,
        new Dictionary<string, double> { ["vcpu"] = h.Cpus, ["memory_mib"] = h.MemoryMib },
        new Dictionary<string, string>(h.Attributes, StringComparer.Ordinal) { [HostName] = h.Node },
        !h.Available ? NodeState.Down : h.State == HostState.Standby ? NodeState.Maintenance : NodeState.Up);

    private static SchedulerVm Demand(string name, int vcpus, long memoryMib, int priority, bool ha, string? node) =>
        new(name, new Dictionary<string, double> { ["vcpu"] = vcpus, ["memory_mib"] = memoryMib }, priority, ha, node);

    private static string Lower(VmPhase phase) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(phase.ToString());
}
