using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Akka.Coordination;

namespace Virt.Actors.Cluster;

/// <summary>
/// What an <see cref="EtcdLease"/> reads from its lease block (the config path named by <c>use-lease</c> or
/// <c>lease-implementation</c>), checked as a whole: every problem is reported at once, by key.
/// <para>Keys, besides Akka's own <c>lease-class</c>, <c>heartbeat-timeout</c> (the etcd lease TTL, rounded up to
/// whole seconds), <c>heartbeat-interval</c> (how often the lease is renewed) and <c>lease-operation-timeout</c>
/// (the limit for one acquire or release):</para>
/// <list type="bullet">
/// <item><c>endpoints</c>: the etcd client URLs, <c>["http://10.0.0.1:2379", ...]</c>; required.</item>
/// <item><c>key-prefix</c> (<c>/virt/leases/</c>): the lease's key is this prefix followed by the lease name.</item>
/// <item><c>safety-margin</c> (twice <c>heartbeat-interval</c>): how much earlier than etcd could expire the lease
/// this node gives it up.</item>
/// <item><c>connect-timeout</c> (5s): limit for opening a connection to one endpoint.</item>
/// <item><c>tls { ca-file, cert-file, key-file }</c> (all empty): PEM files; the CA that signed the etcd members'
/// certificates (empty: the system's trust store), and this client's certificate and key for etcd's
/// <c>--client-cert-auth</c>. Needs https endpoints.</item>
/// </list>
/// </summary>
internal sealed record EtcdLeaseSettings(
    IReadOnlyList<Uri> Endpoints,
    string KeyPrefix,
    TimeSpan SafetyMargin,
    TimeSpan ConnectTimeout,
    EtcdTls? Tls,
    TimeoutSettings Timeouts)
{
    public const string DefaultKeyPrefix = "/virt/leases/";
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Keys of the lease block this lease reads (Akka's own included).</summary>
    public static readonly IReadOnlySet<string> Keys = new HashSet<string>(StringComparer.Ordinal)
    {
        "lease-class", "heartbeat-timeout", "heartbeat-interval", "lease-operation-timeout",
        "endpoints", "key-prefix", "safety-margin", "connect-timeout", "tls",
    };

    private static readonly IReadOnlySet<string> TlsKeys = new HashSet<string>(StringComparer.Ordinal) { "ca-file", "cert-file", "key-file" };

    /// <summary>The etcd lease TTL: etcd counts whole seconds.</summary>
    public TimeSpan Ttl => TimeSpan.FromSeconds(Math.Ceiling(Timeouts.HeartbeatTimeout.TotalSeconds));

    /// <summary>
    /// Reads and checks <paramref name="block"/>; throws one <see cref="ConfigurationException"/> that lists every
    /// problem. <paramref name="timeouts"/>: Akka's reading of the same block (null: read here).
    /// <paramref name="inherited"/>: keys that come from Akka's <c>akka.coordination.lease</c> defaults (the lease
    /// block is merged with them), which are not the user's typos.
    /// </summary>
    public static EtcdLeaseSettings Parse(Config block, TimeoutSettings? timeouts, string where, IReadOnlySet<string>? inherited = null)
    {
        var problems = new List<(string Key, string Problem)>();
        var settings = Read(block, timeouts, inherited ?? new HashSet<string>(), problems);
        if (problems.Count > 0 || settings is null)
            throw new ConfigurationException($"etcd lease configuration {where} is not usable:\n" + string.Join('\n', problems.Select(p => $"  {p.Key}: {p.Problem}")));
        return settings;
    }

    /// <summary>What is wrong with <paramref name="block"/>, key by key (relative to the block); empty when it is usable.</summary>
    public static IReadOnlyList<(string Key, string Problem)> Problems(Config block, IReadOnlySet<string>? inherited = null)
    {
        var problems = new List<(string Key, string Problem)>();
        Read(block, null, inherited ?? new HashSet<string>(), problems);
        return problems;
    }

    private static EtcdLeaseSettings? Read(Config block, TimeoutSettings? timeouts, IReadOnlySet<string> inherited, List<(string, string)> problems)
    {
        foreach (var key in TopLevelKeys(block))
        {
            if (!Keys.Contains(key) && !inherited.Contains(key))
                problems.Add((key, $"is not a key of the etcd lease; the keys are {string.Join(", ", Keys.Order())}"));
        }

        try
        {
            timeouts ??= TimeoutSettings.Create(block);
        }
        catch (Exception ex) when (ex is ArgumentException or ConfigurationException or FormatException or NullReferenceException)
        {
            problems.Add(("heartbeat-timeout/heartbeat-interval/lease-operation-timeout", ex.Message));
        }

        var endpoints = ReadEndpoints(block, problems);
        var prefix = Get(block, "key-prefix", problems, c => c.GetString("key-prefix"), DefaultKeyPrefix);
        if (string.IsNullOrWhiteSpace(prefix))
            problems.Add(("key-prefix", $"must not be empty; the default is {DefaultKeyPrefix}"));
        var connectTimeout = Get(block, "connect-timeout", problems, c => c.GetTimeSpan("connect-timeout"), DefaultConnectTimeout);
        if (connectTimeout <= TimeSpan.Zero)
            problems.Add(("connect-timeout", "must be a positive duration, like 5s"));

        TimeSpan margin = TimeSpan.Zero;
        if (timeouts is not null)
        {
            if (timeouts.HeartbeatTimeout < TimeSpan.FromSeconds(1))
                problems.Add(("heartbeat-timeout", $"must be at least 1s (etcd counts lease TTLs in whole seconds), not {timeouts.HeartbeatTimeout.TotalMilliseconds:0}ms"));
            if (timeouts.HeartbeatInterval <= TimeSpan.Zero)
                problems.Add(("heartbeat-interval", "must be a positive duration"));
            if (timeouts.OperationTimeout <= TimeSpan.Zero)
                problems.Add(("lease-operation-timeout", "must be a positive duration, like 5s"));
            margin = Get(block, "safety-margin", problems, c => c.GetTimeSpan("safety-margin"), 2 * timeouts.HeartbeatInterval);
            var room = timeouts.HeartbeatTimeout - timeouts.HeartbeatInterval;
            if (margin < TimeSpan.Zero || margin >= room)
            {
                problems.Add(("safety-margin", $"must be at least 0 and less than heartbeat-timeout minus heartbeat-interval ({room.TotalMilliseconds:0}ms), " +
                                               $"so that a renewal can succeed before the lease is given up; it is {margin.TotalMilliseconds:0}ms " +
                                               "(default: twice heartbeat-interval); lower heartbeat-interval or set safety-margin"));
            }
        }

        var tls = ReadTls(block, problems);
        if (endpoints.Count > 0)
        {
            var schemes = endpoints.Select(e => e.Scheme).Distinct().ToList();
            if (schemes.Count > 1)
                problems.Add(("endpoints", "mix http:// and https://; use one scheme for every member"));
            else if (tls is not null && schemes[0] == Uri.UriSchemeHttp)
                problems.Add(("tls", "is set but the endpoints use http://; use https:// endpoints"));
        }

        return timeouts is null ? null : new EtcdLeaseSettings(endpoints, prefix, margin, connectTimeout, tls, timeouts);
    }

    private static List<Uri> ReadEndpoints(Config block, List<(string, string)> problems)
    {
        const string example = "like [\"http://10.0.0.1:2379\", \"http://10.0.0.2:2379\"]";
        if (!block.HasPath("endpoints"))
        {
            problems.Add(("endpoints", $"is missing: list the etcd client URLs, {example}"));
            return [];
        }

        if (block.GetValue("endpoints") is var list && (list.IsString() || list.IsObject()))
        {
            problems.Add(("endpoints", $"must be a list of etcd client URLs, {example}"));
            return [];
        }

        var values = Get<IList<string>>(block, "endpoints", problems, c => c.GetStringList("endpoints"), []);
        if (values.Count == 0)
            problems.Add(("endpoints", $"is empty: list the etcd client URLs, {example}"));
        var endpoints = new List<Uri>();
        foreach (var value in values)
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
                problems.Add(("endpoints", $"'{value}' is not an etcd client URL; write it {example}"));
            else if (!HasExplicitPort(value, uri))
                problems.Add(("endpoints", $"'{value}' has no port; etcd's client port is usually 2379: {uri.Scheme}://{uri.Host}:2379"));
            else if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
                problems.Add(("endpoints", $"'{value}' has a path; give only scheme, host and port"));
            else
                endpoints.Add(uri);
        }

        return endpoints;
    }

    private static bool HasExplicitPort(string value, Uri uri) =>
        !uri.IsDefaultPort || value.Contains($":{uri.Port}", StringComparison.Ordinal);

    private static EtcdTls? ReadTls(Config block, List<(string, string)> problems)
    {
        if (!block.HasPath("tls"))
            return null;
        Config tls;
        try
        {
            tls = block.GetConfig("tls");
        }
        catch (Exception)
        {
            problems.Add(("tls", "must be an object: tls { ca-file = ..., cert-file = ..., key-file = ... }"));
            return null;
        }

        if (tls is null || tls.IsEmpty)
            return null;
        foreach (var key in TopLevelKeys(tls))
        {
            if (!TlsKeys.Contains(key))
                problems.Add(($"tls.{key}", "is not a key of tls; the keys are ca-file, cert-file, key-file"));
        }

        var caFile = Get(tls, "ca-file", problems, c => c.GetString("ca-file"), "");
        var certFile = Get(tls, "cert-file", problems, c => c.GetString("cert-file"), "");
        var keyFile = Get(tls, "key-file", problems, c => c.GetString("key-file"), "");
        if (caFile == "" && certFile == "" && keyFile == "")
            return null;

        X509Certificate2Collection? ca = null;
        if (caFile != "")
        {
            try
            {
                ca = [];
                ca.ImportFromPemFile(caFile);
                if (ca.Count == 0)
                    problems.Add(("tls.ca-file", $"{caFile} holds no PEM certificate"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
            {
                problems.Add(("tls.ca-file", $"cannot read {caFile}: {ex.Message}"));
            }
        }

        X509Certificate2? client = null;
        if ((certFile == "") != (keyFile == ""))
            problems.Add((certFile == "" ? "tls.cert-file" : "tls.key-file", "cert-file and key-file go together: set both (a client certificate and its key) or neither"));
        else if (certFile != "")
        {
            try
            {
                client = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                problems.Add(("tls.cert-file", $"cannot load the certificate {certFile} with the key {keyFile}: {ex.Message}"));
            }
        }

        return new EtcdTls(ca, client, caFile, certFile);
    }

    private static T Get<T>(Config block, string key, List<(string, string)> problems, Func<Config, T> read, T fallback)
    {
        if (!block.HasPath(key))
            return fallback;
        try
        {
            return read(block) ?? fallback;
        }
        catch (Exception ex) when (ex is ConfigurationException or FormatException or InvalidCastException or OverflowException or NullReferenceException or InvalidOperationException)
        {
            problems.Add((key, $"has a value of the wrong kind: {ex.Message}"));
            return fallback;
        }
    }

    private static IEnumerable<string> TopLevelKeys(Config config) =>
        config.Root.IsObject() ? config.Root.GetObject().Items.Keys : [];
}
