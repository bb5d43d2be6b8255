using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.InProcess;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

public sealed class InMemoryCoordinationConformance : CoordinationConformance
{
    private readonly InMemoryCoordination _shared = new();

    /// <summary>Every "client" is the one in-process store; disposing a client leaves the store alone.</summary>
    protected override Task<ICoordination> Connect() => Task.FromResult<ICoordination>(new DelegatingCoordination(_shared));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _shared.DisposeAsync();
    }
}
