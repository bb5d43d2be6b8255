using Microsoft.Extensions.Configuration;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.Etcd;

namespace Virt.Actors.Cluster;

/// <summary>Bound from <c>virt.cluster</c> (see hocon/virt.conf).</summary>
public sealed class ClusterOptions
{
    /// <summary>TTL of this node's lease at the coordination store; its membership and singletons go when it ends.</summary>
    [ConfigurationKeyName("lease-ttl")]
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(4);

    [ConfigurationKeyName("keepalive-interval")]
    public TimeSpan KeepaliveInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How much earlier than the store could expire the lease this node declares it lost and stops acting.</summary>
    [ConfigurationKeyName("lease-safety-margin")]
    public TimeSpan LeaseSafetyMargin { get; set; } = TimeSpan.FromSeconds(1);

    public EtcdOptions Etcd { get; set; } = new();

    public LeaseSettings Lease => new(LeaseTtl, KeepaliveInterval, LeaseSafetyMargin);

    public bool UsesEtcd => Etcd.Endpoints.Count > 0;
}
