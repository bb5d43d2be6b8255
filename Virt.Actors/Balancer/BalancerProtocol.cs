using Virt.Actors.Persistence;

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
    public sealed record HostReport(
        string Node, int Cpus, long MemoryMib, IReadOnlyDictionary<string, string> Attributes, HostState State, bool Available, IReadOnlyList<string>? Domains = null)
        : IVirtSerializable
    {
        /// <summary>Whether <paramref name="other"/> says the same about what the host offers (its domains aside).</summary>
        public bool SameOffer(HostReport other) =>
            (Node, Cpus, MemoryMib, State, Available) == (other.Node, other.Cpus, other.MemoryMib, other.State, other.Available)
            && Attributes.Count == other.Attributes.Count && Attributes.All(a => other.Attributes.TryGetValue(a.Key, out var v) && v == a.Value);
    }

    /// <summary>Answer: <see cref="Hosts"/>, every host the balancer knows and when it last reported.</summary>
    public sealed record GetHosts : IVirtSerializable;

    public sealed record Hosts(IReadOnlyList<HostReport> Reports, IReadOnlyDictionary<string, DateTimeOffset> ReportedAt) : IVirtSerializable;
}
