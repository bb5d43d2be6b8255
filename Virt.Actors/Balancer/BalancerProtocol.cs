using Virt.Actors.Persistence;
using Virt.Actors.Vm;

namespace Virt.Actors.Balancer;

/// <summary>What hosts are in for placement.</summary>
public enum HostState
{
    /// <summary>Takes new VMs.</summary>
    Up,

    /// <summary>Keeps what it runs, takes nothing new.</summary>
    Standby,
}

/// <summary>Messages to the balancer singleton, and its answers.</summary>
public static class BalancerProtocol
{
    /// <summary>A VM asks where to start (op <paramref name="Op"/> of its placement). The answer is a <see cref="Placement"/> to the sender.</summary>
    /// <param name="Pin">Only this host (the operator's choice); still checked like any other placement.</param>
    public sealed record PlaceVm(string Vm, long Op, int Vcpus, long MemoryMib, int Priority, bool Ha, string? Pin = null) : IVirtSerializable;

    /// <summary>Where to start (<paramref name="Node"/>), or why nowhere (<paramref name="Reason"/>, per host, the engine's words).</summary>
    public sealed record Placement(string Vm, long Op, string? Node, string? Reason) : IVirtSerializable;

    /// <summary>A node agent's account of its host: sent when it changes and every report interval.</summary>
    /// <param name="Available">libvirt is reachable; an unavailable host takes no VMs.</param>
    /// <param name="Domains">The domains running there now, as libvirt lists them (managed by Virt or not).</param>
    /// <param name="Incarnation">The reporting member's uid: a request the balancer sends back carries it.</param>
    public sealed record HostReport(
        string Node, int Cpus, long MemoryMib, IReadOnlyDictionary<string, string> Attributes, HostState State, bool Available, IReadOnlyList<string>? Domains = null, long Incarnation = 0)
        : IVirtSerializable
    {
        /// <summary>Whether <paramref name="other"/> says the same about what the host offers (its domains aside).</summary>
        public bool SameOffer(HostReport other) =>
            (Node, Cpus, MemoryMib, State, Available) == (other.Node, other.Cpus, other.MemoryMib, other.State, other.Available)
            && Attributes.Count == other.Attributes.Count && Attributes.All(a => other.Attributes.TryGetValue(a.Key, out var v) && v == a.Value);
    }

    /// <summary>A member that was host <paramref name="Node"/> was removed from the cluster (<paramref name="Downed"/>: after being downed, else it left), as a node saw it.</summary>
    public sealed record HostRemoved(string Node, long Incarnation, bool Downed) : IVirtSerializable;

    /// <summary>Answer: <see cref="Hosts"/>, every host the balancer knows and when it last reported.</summary>
    public sealed record GetHosts : IVirtSerializable;

    public sealed record Hosts(IReadOnlyList<HostReport> Reports, IReadOnlyDictionary<string, DateTimeOffset> ReportedAt) : IVirtSerializable;

    /// <summary>Adds a placement rule (an object of the <c>virt plan</c> scenario format). Answer: <see cref="RuleAdded"/> or <see cref="RuleRefused"/>.</summary>
    public sealed record AddRule(string Json) : IVirtSerializable;

    /// <param name="Warnings">Running VMs that already break it (they are not moved: repair moves come with the placement work).</param>
    public sealed record RuleAdded(string Name, string Json, IReadOnlyList<string> Warnings) : IVirtSerializable;

    /// <param name="Conflict">A rule of that name exists (else the rule itself is wrong).</param>
    public sealed record RuleRefused(string Reason, bool Conflict) : IVirtSerializable;

    public sealed record RemoveRule(string Name) : IVirtSerializable;

    /// <summary>Answer to <see cref="RemoveRule"/>; <paramref name="Existed"/> false when there was no such rule.</summary>
    public sealed record RuleRemoved(string Name, bool Existed) : IVirtSerializable;

    /// <summary>Answer: <see cref="RuleList"/>, the rules as they were given, by name.</summary>
    public sealed record GetRules : IVirtSerializable;

    public sealed record RuleList(IReadOnlyList<RuleAdded> Rules) : IVirtSerializable;

    /// <summary>Answer: <see cref="Explanation"/>, the engine's view of where the VM would start now, or why nowhere.</summary>
    /// <param name="View">The VM as its entity has it, used when the balancer's picture does not show it yet (created a moment ago).</param>
    public sealed record Explain(string Vm, VmView? View = null) : IVirtSerializable;

    /// <param name="Found">False when the balancer does not know the VM.</param>
    public sealed record Explanation(string Vm, bool Found, string Text) : IVirtSerializable;

    /// <summary>Answer: <see cref="Snapshot"/>, the balancer's picture as a <c>virt plan</c> scenario; with <paramref name="Pending"/>, that VM to place.</summary>
    /// <param name="PendingView">The pending VM as its entity has it, for a VM created so recently that the balancer's picture (fed by the VM index) does not show it yet.</param>
    public sealed record GetSnapshot(string? Pending, VmView? PendingView = null) : IVirtSerializable;

    /// <param name="Scenario">The scenario JSON, or null with <paramref name="Error"/>.</param>
    public sealed record Snapshot(string? Scenario, string? Error) : IVirtSerializable;
}
