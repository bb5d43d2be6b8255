using Virt.Actors.Vm;

namespace Virt.Actors.Index;

/// <summary>Registry key of this node's VM index.</summary>
public sealed class VmIndexKey;

/// <summary>Messages to the VM index, and its answers.</summary>
public static class VmIndexProtocol
{
    /// <summary>Every VM that exists, as of a read of the journal that began after this request arrived. Answer: <see cref="Listing"/>.</summary>
    public sealed record List;

    /// <param name="Offset">The journal offset the listing is current to.</param>
    public sealed record Listing(IReadOnlyList<VmState> Vms, long Offset);

    /// <summary>Follow changes: <see cref="Snapshot"/> once the index is current, then <see cref="Changed"/> after each read that changed something.</summary>
    public sealed record Subscribe(Akka.Actor.IActorRef Subscriber);

    /// <summary>Every VM known to the journal (deleted ones included, in <see cref="VmPhase.Deleted"/>).</summary>
    public sealed record Snapshot(IReadOnlyDictionary<string, VmState> Vms);

    public sealed record Changed(IReadOnlyList<VmState> Vms);

    /// <summary>Answer: <see cref="Status"/>.</summary>
    public sealed record GetStatus;

    /// <param name="Ready">The first read of the whole journal has finished.</param>
    public sealed record Status(bool Ready, int Vms, long Offset);
}
