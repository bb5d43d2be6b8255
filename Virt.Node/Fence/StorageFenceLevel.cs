using Virt.Actors.Fencing;

namespace Virt.Node.Fence;

/// <summary>
/// The storage level's seam: blocklisting the host's Ceph clients and breaking its image locks, so it can write
/// nothing even if it runs. Until VM disks are on RBD (the Ceph work) it confirms nothing and says so, and the next
/// level is tried.
/// </summary>
internal sealed class StorageFenceLevel : IFenceLevel
{
    public string Name => "storage";

    public Task<FenceOutcome> Fence(FenceTarget target, CancellationToken cancellationToken) =>
        Task.FromResult(FenceOutcome.NotDone("storage fencing (Ceph blocklist) is not available yet: VM disks are not on RBD"));
}
