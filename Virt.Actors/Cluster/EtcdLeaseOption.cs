using System.Globalization;
using System.Text;
using System.Text.Json;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Coordination;
using Akka.Hosting;
using Akka.Hosting.Coordination;
using Microsoft.Extensions.Configuration;
using Virt.Hocon;

namespace Virt.Actors.Cluster;

/// <summary>
/// The etcd lease for Akka.Hosting: <c>builder.WithEtcdLease(lease)</c> writes its lease block at
/// <see cref="ConfigPath"/>; pass the same object as <c>LeaseMajorityOption.LeaseImplementation</c> and
/// <c>ClusterSingletonOptions.LeaseImplementation</c>. Bindable from a configuration section with the lease block's
/// own key names (see <see cref="EtcdLeaseSettings"/>); an unset timing keeps Akka's default.
/// </summary>
internal sealed class EtcdLeaseOption : LeaseOptionBase, IValidatedOptions
{
    public const string DefaultConfigPath = "akka.coordination.lease.etcd";
    private readonly string _configPath;

    public EtcdLeaseOption()
        : this(DefaultConfigPath)
    {
    }

    public EtcdLeaseOption(string configPath) => _configPath = configPath;

    public override string ConfigPath => _configPath;

    public override Type Class => typeof(EtcdLease);

    /// <summary>etcd client URLs, <c>http://10.0.0.1:2379</c>; all http or all https.</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>A lease's key is this prefix followed by the lease name.</summary>
    [ConfigurationKeyName("key-prefix")]
    public string KeyPrefix { get; set; } = EtcdLeaseSettings.DefaultKeyPrefix;

    /// <summary>The etcd lease TTL: how long a crashed holder keeps the lease. Keep it below the time it takes to down a node. Akka's default: 120s.</summary>
    [ConfigurationKeyName("heartbeat-timeout")]
    public TimeSpan? HeartbeatTimeout { get; set; }

    /// <summary>How often the holder renews; under a third of heartbeat-timeout with the default safety margin. Akka's default: 12s.</summary>
    [ConfigurationKeyName("heartbeat-interval")]
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>Limit for one acquire or release. Akka's default: 5s.</summary>
    [ConfigurationKeyName("lease-operation-timeout")]
    public TimeSpan? OperationTimeout { get; set; }

    /// <summary>How much earlier than etcd could expire the lease the holder gives it up. Default: twice heartbeat-interval.</summary>
    [ConfigurationKeyName("safety-margin")]
    public TimeSpan? SafetyMargin { get; set; }

    /// <summary>Limit for opening a connection to one endpoint.</summary>
    [ConfigurationKeyName("connect-timeout")]
    public TimeSpan ConnectTimeout { get; set; } = EtcdLeaseSettings.DefaultConnectTimeout;

    /// <summary>PEM files for https endpoints.</summary>
    public TlsFiles Tls { get; set; } = new();

    public sealed class TlsFiles
    {
        /// <summary>CA that signed the members' certificates; empty: the system's trust store.</summary>
        [ConfigurationKeyName("ca-file")]
        public string CaFile { get; set; } = "";

        /// <summary>This client's certificate, for etcd's --client-cert-auth.</summary>
        [ConfigurationKeyName("cert-file")]
        public string CertFile { get; set; } = "";

        /// <summary>The key of cert-file.</summary>
        [ConfigurationKeyName("key-file")]
        public string KeyFile { get; set; } = "";
    }

    /// <summary>The lease block, at <see cref="ConfigPath"/>.</summary>
    public string ToHocon()
    {
        var hocon = new StringBuilder();
        hocon.Append(ConfigPath).AppendLine(" {");
        Line(hocon, "lease-class", Quote(Class.FullName + ", " + Class.Assembly.GetName().Name));
        Line(hocon, "endpoints", "[" + string.Join(", ", Endpoints.Select(Quote)) + "]");
        Line(hocon, "key-prefix", Quote(KeyPrefix));
        Duration(hocon, "heartbeat-timeout", HeartbeatTimeout);
        Duration(hocon, "heartbeat-interval", HeartbeatInterval);
        Duration(hocon, "lease-operation-timeout", OperationTimeout);
        Duration(hocon, "safety-margin", SafetyMargin);
        Duration(hocon, "connect-timeout", ConnectTimeout);
        Line(hocon, "tls", $"{{ ca-file = {Quote(Tls.CaFile)}, cert-file = {Quote(Tls.CertFile)}, key-file = {Quote(Tls.KeyFile)} }}");
        return hocon.AppendLine("}").ToString();
    }

    /// <summary>Checked the way the lease will read it, over Akka's defaults for the timings left unset.</summary>
    public IEnumerable<(string Key, string Problem)> Problems()
    {
        var block = ConfigurationFactory.ParseString(ToHocon()).GetConfig(ConfigPath)
            .WithFallback(LeaseProvider.DefaultConfig().GetConfig("akka.coordination.lease"));
        return EtcdLeaseSettings.Problems(block, new HashSet<string>(StringComparer.Ordinal) { "etcd" });
    }

    public override void Apply(AkkaConfigurationBuilder builder, Setup? setup = null)
    {
        var problems = Problems().ToList();
        if (problems.Count > 0)
            throw new ConfigurationException($"etcd lease configuration at {ConfigPath} is not usable:\n" + string.Join('\n', problems.Select(p => $"  {p.Key}: {p.Problem}")));
        builder.AddHocon(ToHocon(), HoconAddMode.Prepend);
    }

    private static void Line(StringBuilder hocon, string key, string value) => hocon.Append("  ").Append(key).Append(" = ").AppendLine(value);

    private static void Duration(StringBuilder hocon, string key, TimeSpan? value)
    {
        if (value is { } d)
            Line(hocon, key, ((long)d.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms");
    }

    private static string Quote(string value) => JsonSerializer.Serialize(value);
}

internal static class EtcdLeaseHosting
{
    /// <summary>Adds the etcd lease's block; checks it first and throws one error that lists every problem.</summary>
    public static AkkaConfigurationBuilder WithEtcdLease(this AkkaConfigurationBuilder builder, EtcdLeaseOption lease)
    {
        lease.Apply(builder);
        return builder;
    }
}
