using Akka.Coordination;
using Virt.Actors.Cluster;
using Virt.Tests.Support;
using static Virt.Tests.Cluster.EtcdLeaseRig;

namespace Virt.Tests.Cluster;

/// <summary>The lease over TLS to an etcd that demands client certificates (<c>--client-cert-auth</c>).</summary>
public sealed class EtcdLeaseTlsTests : IAsyncLifetime
{
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync(tls: true);

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task With_the_CA_and_a_client_certificate_the_lease_is_acquired_renewed_and_released_over_TLS()
    {
        Assert.All(_etcd.Endpoints, e => Assert.StartsWith("https://", e));
        using var kit = Kit(Config(Block(_etcd)));
        var lease = Lease(kit.Sys, NewName(), "tls-node:4053");

        Assert.True(await lease.Acquire());
        var granted = lease.Deadline!.Value;
        await Eventually.Until(() => lease.Deadline > granted + Interval, "keepalives over TLS are acknowledged");
        Assert.Equal("tls-node:4053", await _etcd.OwnerAsync(lease.Key));
        Assert.True(await lease.Release());
        Assert.Null(await _etcd.OwnerAsync(lease.Key));
    }

    [Fact]
    public async Task Without_a_client_certificate_etcd_refuses_the_connection_and_acquire_fails_with_a_lease_exception()
    {
        var block = Block(_etcd);
        block.Tls = new EtcdLeaseOption.TlsFiles { CaFile = _etcd.Tls!.CaFile };
        using var kit = Kit(Config(block));

        var failure = await Assert.ThrowsAnyAsync<LeaseException>(() => Lease(kit.Sys, NewName(), "no-cert:4053").Acquire());
        Assert.Contains("could not reach etcd", failure.Message);
    }

    [Fact]
    public async Task A_server_certificate_from_another_CA_is_not_trusted()
    {
        using var elsewhere = new TempDirectory("other-ca");
        var stranger = new TestCertificates(elsewhere.Path);
        var block = Block(_etcd);
        block.Tls = new EtcdLeaseOption.TlsFiles { CaFile = stranger.CaFile, CertFile = _etcd.Tls!.ClientCertFile, KeyFile = _etcd.Tls.ClientKeyFile };
        using var kit = Kit(Config(block));

        await Assert.ThrowsAnyAsync<LeaseException>(() => Lease(kit.Sys, NewName(), "wrong-ca:4053").Acquire());
    }
}
