using Microsoft.Extensions.Logging.Abstractions;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.Etcd;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

/// <summary>etcd that requires TLS and client certificates (<c>--client-cert-auth</c>), as production clusters do.</summary>
public sealed class EtcdTlsTests : IAsyncLifetime
{
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync(size: 1, tls: true);

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    private EtcdCoordination Client(EtcdTlsOptions tls) =>
        new(new EtcdOptions { Endpoints = [.. _etcd.Endpoints], Tls = tls }, NullLogger.Instance);

    [Fact]
    public async Task A_client_with_the_ca_and_a_signed_certificate_is_served()
    {
        var certs = _etcd.Tls!;
        await using var client = Client(new EtcdTlsOptions { CaFile = certs.CaFile, CertFile = certs.ClientCertFile, KeyFile = certs.ClientKeyFile });
        await client.PutAsync("/tls/k", [42]);
        Assert.Equal([42], (await client.GetAsync("/tls/k"))!.Value);
    }

    [Fact]
    public async Task Without_a_client_certificate_the_call_fails_with_a_clear_error()
    {
        await using var client = Client(new EtcdTlsOptions { CaFile = _etcd.Tls!.CaFile });
        var ex = await Assert.ThrowsAnyAsync<CoordinationUnavailableException>(() => client.PutAsync("/tls/k", [1]));
        Assert.Contains("etcd 127.0.0.1", ex.Message);
    }

    [Fact]
    public async Task A_server_certificate_from_an_untrusted_ca_is_refused()
    {
        var certs = _etcd.Tls!;
        await using var client = Client(new EtcdTlsOptions { CertFile = certs.ClientCertFile, KeyFile = certs.ClientKeyFile }); // no CA: the system trust store
        var ex = await Assert.ThrowsAsync<EtcdUnavailableException>(() => client.PutAsync("/tls/k", [1]));
        Assert.False(ex.Sent);
        Assert.Contains("cannot connect", ex.Message);
    }

    [Fact]
    public void Missing_files_and_half_a_key_pair_are_refused_before_any_call()
    {
        var halfPair = Assert.Throws<FormatException>(() => Client(new EtcdTlsOptions { CertFile = _etcd.Tls!.ClientCertFile }));
        Assert.Contains("cert-file and key-file go together", halfPair.Message);
        var missing = Assert.Throws<FormatException>(() => Client(new EtcdTlsOptions { CaFile = "/nonexistent/ca.pem" }));
        Assert.Contains("/nonexistent/ca.pem does not exist", missing.Message);
    }
}
