using Virt.Actors.Persistence;

namespace Virt.Actors.Vm;

/// <summary>A message for one VM's entity; sharding routes it by <see cref="Vm"/> (the VM's name is the entity id).</summary>
public interface IVmMessage : IVirtSerializable
{
    string Vm { get; }
}

/// <summary>Messages to a VM entity, and its answers.</summary>
public static class VmProtocol
{
    /// <summary>A command for the VM; the answer is a <see cref="Result"/> (after its events are stored) or <see cref="NotFound"/>.</summary>
    /// <param name="Request">The client's Idempotency-Key and what it asked: a command whose key the VM has stored is answered, not done again.</param>
    public sealed record Command(string Vm, VmCommand Body, RequestStamp? Request = null) : IVmMessage;

    /// <summary>The answer is the <see cref="VmView"/>, or <see cref="NotFound"/>.</summary>
    public sealed record Get(string Vm) : IVmMessage;

    public sealed record NotFound(string Vm) : IVirtSerializable;

    /// <param name="Reason">Why it was refused.</param>
    /// <param name="Phase">The VM's phase after the command.</param>
    /// <param name="View">The VM after the command; null when it no longer exists.</param>
    /// <param name="Events">How many events the command stored (0: nothing to do).</param>
    /// <param name="Replayed">The command's key was stored already: this is the answer to a retry, nothing was done again.</param>
    public sealed record Result(bool Accepted, string? Reason, VmPhase Phase, VmView? View, int Events, bool Replayed = false) : IVirtSerializable;

    /// <summary>The command's Idempotency-Key was used before for another request: nothing was done.</summary>
    public sealed record KeyReused(string Vm, string Key) : IVirtSerializable;
}
