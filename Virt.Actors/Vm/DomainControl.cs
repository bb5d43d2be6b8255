using Virt.Actors.Persistence;

namespace Virt.Actors.Vm;

/// <summary>
/// An operator's action on a domain that Virt's lifecycle does not decide on (read it, reset it, press keys), sent by
/// the API straight to the agent of the host the VM is on. <paramref name="Incarnation"/> is the host's, as in a
/// fencing token: an agent refuses an action meant for an earlier incarnation of itself. The answer is
/// <see cref="DomainDetails"/> for <see cref="ReadDomain"/>, else <see cref="DomainControlDone"/>.
/// </summary>
public abstract record DomainControl(string Name, long Incarnation) : IVirtSerializable;

/// <summary>What libvirt has for the domain: its state, size and live XML.</summary>
public sealed record ReadDomain(string Name, long Incarnation) : DomainControl(Name, Incarnation);

/// <summary>A hard reset, like the reset button: the guest reboots at once, without shutting down.</summary>
public sealed record ResetDomain(string Name, long Incarnation) : DomainControl(Name, Incarnation);

/// <summary>Presses <paramref name="Keycodes"/> (Linux input key codes) together, held <paramref name="HoldMs"/> ms.</summary>
public sealed record SendDomainKeys(string Name, IReadOnlyList<uint> Keycodes, uint HoldMs, long Incarnation) : DomainControl(Name, Incarnation);

/// <param name="Node">The host that answered.</param>
public sealed record DomainDetails(string Name, string Node, bool Exists, bool Running, int Vcpus, long MemoryMib, string? Xml, string? Error = null) : IVirtSerializable;

/// <param name="Error">Why it was not done (null: done).</param>
public sealed record DomainControlDone(string Name, string Node, string Action, string? Error = null) : IVirtSerializable;
