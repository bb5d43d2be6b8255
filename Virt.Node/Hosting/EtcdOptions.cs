using Microsoft.Extensions.Configuration;
using Virt.Actors.Cluster;
using Virt.Hocon;

namespace Virt.Node.Hosting;

/// <summary>
/// Bound from <c>virt.cluster.etcd</c>. With endpoints, the Split Brain Resolver runs <c>lease-majority</c> and every
/// cluster singleton (the balancer, the shard coordinator) runs only while it holds its lease in etcd; without,
/// <c>keep-majority</c> and no leases. The timings are Virt's, not Akka's (120 s TTL): a crashed holder's lease must
/// run out before the others have downed it (failure detection ~2.5 s + stable-after 3 s), or its singletons wait.
/// </summary>
internal sealed class EtcdOptions : IValidatedOptions
{
    /// <summary>etcd client URLs (<c>http://10.0.0.1:2379</c>); all http or all https. Empty: no etcd.</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>A lease's key is this prefix followed by the lease's name.</summary>
    [ConfigurationKeyName("key-prefix")]
    public string KeyPrefix { get; set; } = EtcdLeaseSettings.DefaultKeyPrefix;

    /// <summary>The etcd lease TTL: how long a crashed holder keeps a lease (whole seconds).</summary>
    [ConfigurationKeyName("heartbeat-timeout")]
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a holder renews its leases.</summary>
    [ConfigurationKeyName("heartbeat-interval")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Limit for one acquire or release.</summary>
    [ConfigurationKeyName("operation-timeout")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Limit for opening a connection to one endpoint.</summary>
    [ConfigurationKeyName("connect-timeout")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>PEM files for https endpoints (ca-file, cert-file, key-file), as the lease block has them.</summary>
    public EtcdLeaseOption.TlsFiles Tls { get; set; } = new();

    public bool Enabled => Endpoints.Count > 0;

    /// <summary>The lease block Akka's SBR and singletons are pointed at.</summary>
    public EtcdLeaseOption Lease() => new()
    {
        Endpoints = [.. Endpoints],
        KeyPrefix = KeyPrefix,
        HeartbeatTimeout = HeartbeatTimeout,
        HeartbeatInterval = HeartbeatInterval,
        OperationTimeout = OperationTimeout,
        ConnectTimeout = ConnectTimeout,
        Tls = Tls,
    };

    public IEnumerable<(string Key, string Problem)> Problems()
    {
        if (!Enabled)
            yield break;
        var renewalsFit = HeartbeatInterval > TimeSpan.Zero && HeartbeatTimeout > 3 * HeartbeatInterval;
        if (HeartbeatInterval > TimeSpan.Zero && !renewalsFit)
            yield return ("heartbeat-timeout", $"must be more than three times heartbeat-interval ({HeartbeatInterval.TotalMilliseconds:0}ms): a holder renews every interval and gives a lease up two intervals before etcd could expire it");
        foreach (var (key, problem) in Lease().Problems())
        {
            if (!renewalsFit && key is "safety-margin" or "heartbeat-timeout/heartbeat-interval/lease-operation-timeout")
                continue; // said above, in this section's words
            yield return (key switch { "lease-operation-timeout" => "operation-timeout", _ => key }, problem);
        }
    }
}
