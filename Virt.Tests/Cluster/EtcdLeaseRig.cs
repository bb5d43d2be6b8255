using Akka.Actor;
using Akka.Configuration;
using Akka.Coordination;
using Virt.Actors.Cluster;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

/// <summary>
/// Actor systems (Akka.TestKit) whose etcd lease blocks point at a test's own etcd, with timings short enough for
/// tests: TTL 4 s, a keepalive every 500 ms, so the holder gives the lease up 3 s after its last acknowledged one.
/// </summary>
internal static class EtcdLeaseRig
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(4);
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    public const string LeasePath = EtcdLeaseOption.DefaultConfigPath;

    /// <summary>A lease block on the members given (default: all of them).</summary>
    public static EtcdLeaseOption Block(EtcdCluster etcd, string path = LeasePath, params int[] members)
    {
        var option = new EtcdLeaseOption(path)
        {
            Endpoints = (members.Length == 0 ? Enumerable.Range(0, etcd.Size) : members).Select(etcd.Endpoint).ToList(),
            HeartbeatTimeout = Ttl,
            HeartbeatInterval = Interval,
            OperationTimeout = TimeSpan.FromSeconds(2),
            ConnectTimeout = TimeSpan.FromSeconds(1),
        };
        if (etcd.Tls is { } tls)
            option.Tls = new EtcdLeaseOption.TlsFiles { CaFile = tls.CaFile, CertFile = tls.ClientCertFile, KeyFile = tls.ClientKeyFile };
        return option;
    }

    public static Config Config(params EtcdLeaseOption[] blocks) =>
        ConfigurationFactory.ParseString(string.Join('\n', blocks.Select(b => b.ToHocon())) + "\nakka.loglevel = INFO");

    /// <summary>A real actor system from Akka's TestKit (dispose it to end it).</summary>
    public static Akka.TestKit.Xunit2.TestKit Kit(Config config, string name = "lease-test") => new(config, name);

    /// <summary>The lease as Akka's own users get it: through the LeaseProvider, one instance per name, path and owner.</summary>
    public static EtcdLease Lease(ActorSystem system, string name, string owner, string path = LeasePath) =>
        (EtcdLease)LeaseProvider.Get(system).GetLease(name, path, owner);

    public static string NewName(string prefix = "lease") => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
}
