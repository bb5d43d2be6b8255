using Microsoft.Extensions.Configuration;

namespace Virt.Actors.Cluster.Etcd;

/// <summary>Bound from <c>virt.cluster.etcd</c>: how to reach etcd (see hocon/virt.conf).</summary>
public sealed class EtcdOptions
{
    /// <summary>Client URLs of the etcd members (http:// or https://). Empty: single-node mode, coordination in-process.</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>Deadline of one call, failover to other members included.</summary>
    [ConfigurationKeyName("call-timeout")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long opening a connection to one member may take before the next member is tried.</summary>
    [ConfigurationKeyName("dial-timeout")]
    public TimeSpan DialTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// HTTP/2 pings on a connection with open streams, to notice a member that hangs (a watch would wait forever).
    /// etcd refuses pings more often than every 5 s (<c>--grpc-keepalive-min-time</c>).
    /// </summary>
    [ConfigurationKeyName("keepalive-time")]
    public TimeSpan KeepaliveTime { get; set; } = TimeSpan.FromSeconds(6);

    [ConfigurationKeyName("keepalive-timeout")]
    public TimeSpan KeepaliveTimeout { get; set; } = TimeSpan.FromSeconds(3);

    public EtcdTlsOptions Tls { get; set; } = new();

    public void Validate()
    {
        if (Endpoints.Count == 0)
            throw new FormatException("virt.cluster.etcd.endpoints is empty; give etcd's client URLs, e.g. [\"http://10.0.0.1:2379\"]");
        foreach (var endpoint in Endpoints)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https") || uri.AbsolutePath != "/")
                throw new FormatException($"virt.cluster.etcd.endpoints: '{endpoint}' is not an etcd client URL like http://10.0.0.1:2379 or https://etcd-1:2379");
        }

        if (CallTimeout <= TimeSpan.Zero || DialTimeout <= TimeSpan.Zero)
            throw new FormatException("virt.cluster.etcd.call-timeout and dial-timeout must be positive durations, e.g. 2s");
        if (Tls.CertFile.Length > 0 != Tls.KeyFile.Length > 0)
            throw new FormatException("virt.cluster.etcd.tls: cert-file and key-file go together; set both for a client certificate, or neither");
        foreach (var file in new[] { Tls.CaFile, Tls.CertFile, Tls.KeyFile }.Where(f => f.Length > 0))
        {
            if (!File.Exists(file))
                throw new FormatException($"virt.cluster.etcd.tls: {file} does not exist");
        }
    }
}

/// <summary>Bound from <c>virt.cluster.etcd.tls</c>: used for https:// endpoints.</summary>
public sealed class EtcdTlsOptions
{
    /// <summary>PEM file of the CA that signed etcd's server certificates. Empty: the system's trust store.</summary>
    [ConfigurationKeyName("ca-file")]
    public string CaFile { get; set; } = "";

    /// <summary>PEM client certificate and key, for etcd's <c>--client-cert-auth</c>. Empty: none.</summary>
    [ConfigurationKeyName("cert-file")]
    public string CertFile { get; set; } = "";

    [ConfigurationKeyName("key-file")]
    public string KeyFile { get; set; } = "";
}
