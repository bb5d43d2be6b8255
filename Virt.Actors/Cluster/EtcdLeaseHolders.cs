using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Coordination;
using Etcdserverpb;
using Google.Protobuf;

namespace Virt.Actors.Cluster;

/// <summary>Who holds which etcd lease right now, read from etcd itself (for <c>virt cluster status</c>).</summary>
internal static class EtcdLeaseHolders
{
    // The lease block, read once per actor system: reading it loads the TLS files, and status --watch asks every 2 s.
    private static readonly ConditionalWeakTable<ActorSystem, EtcdLeaseSettings> Settings = new();

    /// <summary>Lease name (the key without the prefix) to its owner (host:port), from virt-node's lease block (<see cref="EtcdLeaseOption.DefaultConfigPath"/>).</summary>
    public static async Task<IReadOnlyDictionary<string, string>> ReadAsync(ActorSystem system, TimeSpan timeout)
    {
        var settings = Settings.GetValue(system, s => EtcdLeaseSettings.Parse(
            s.Settings.Config.GetConfig(EtcdLeaseOption.DefaultConfigPath).WithFallback(LeaseProvider.DefaultConfig().GetConfig("akka.coordination.lease")), null, $"at {EtcdLeaseOption.DefaultConfigPath}"));
        using var cancel = new CancellationTokenSource(timeout);
        var prefix = ByteString.CopyFromUtf8(settings.KeyPrefix);
        var range = await EtcdClients.Get(system).For(settings)
            .GetAsync(new RangeRequest { Key = prefix, RangeEnd = PrefixEnd(prefix) }, cancellationToken: cancel.Token)
            .ConfigureAwait(false);
        return range.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8()[settings.KeyPrefix.Length..], kv => kv.Value.ToStringUtf8(), StringComparer.Ordinal);
    }

    private static ByteString PrefixEnd(ByteString prefix)
    {
        var end = prefix.ToByteArray();
        end[^1]++; // prefixes end in '/', never 0xff
        return ByteString.CopyFrom(end);
    }
}
