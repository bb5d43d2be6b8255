using Microsoft.Extensions.Logging.Abstractions;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.Etcd;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

/// <summary>One real 3-member etcd cluster for every conformance test of the etcd backend.</summary>
public sealed class EtcdClusterFixture : IAsyncLifetime
{
    public EtcdCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await EtcdCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class EtcdCoordinationConformance(EtcdClusterFixture etcd) : CoordinationConformance, IClassFixture<EtcdClusterFixture>
{
    protected override Task<ICoordination> Connect() =>
        Task.FromResult<ICoordination>(new EtcdCoordination(new EtcdOptions { Endpoints = [.. etcd.Cluster.Endpoints] }, NullLogger.Instance));
}
