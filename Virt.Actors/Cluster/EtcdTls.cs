using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Virt.Actors.Cluster;

/// <summary>
/// TLS to the etcd members: whom to trust (null: the system's store) and which client certificate to show for
/// etcd's <c>--client-cert-auth</c>.
/// </summary>
internal sealed record EtcdTls(X509Certificate2Collection? TrustedCa, X509Certificate2? ClientCertificate, string CaFile, string CertFile)
{
    /// <summary>
    /// The gRPC channel balances over every endpoint under one made-up authority, so the name TLS checks is not the
    /// member's: a server certificate is accepted when it chains to the configured CA (or the system's store) and
    /// names one of the configured endpoints' hosts.
    /// </summary>
    public void Configure(SslClientAuthenticationOptions ssl, IReadOnlyList<Uri> endpoints)
    {
        if (ClientCertificate is not null)
            ssl.ClientCertificates = [ClientCertificate];
        var hosts = endpoints.Select(e => e.IdnHost).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        ssl.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && IsTrusted(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), hosts);
    }

    private bool IsTrusted(X509Certificate2 server, string[] hosts)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (TrustedCa is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(TrustedCa);
        }

        return chain.Build(server) && hosts.Any(h => server.MatchesHostname(h));
    }
}
