using Microsoft.Extensions.Configuration;
using Virt.Actors.Vm;
using Virt.Hocon;

namespace Virt.Node.Fence;

/// <summary>Bound from <c>virt.fencing</c>: how a lost host is fenced, and what this node does when it is the one lost (see hocon/virt.conf).</summary>
internal sealed class FencingOptions : IValidatedOptions
{
    public static readonly string[] KnownLevels = ["power", "storage", "watchdog"];

    /// <summary>destroy: a node that is downed, removed or on the losing side destroys its domains before it ends; none: it leaves them.</summary>
    [ConfigurationKeyName("self-fence")]
    public string SelfFence { get; set; } = "destroy";

    /// <summary>The levels tried in order for a lost host (virt.conf sets the default; a list here would be appended to by the binder).</summary>
    public List<string> Levels { get; set; } = [];

    /// <summary>Levels for particular hosts, instead of <see cref="Levels"/>.</summary>
    [ConfigurationKeyName("host-levels")]
    public Dictionary<string, List<string>> HostLevels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long the fencer waits before it tries the levels again when none confirmed.</summary>
    [ConfigurationKeyName("retry-interval")]
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    public PowerFencing Power { get; set; } = new();

    public WatchdogSettings Watchdog { get; set; } = new();

    public bool DestroysOnSelfFence => SelfFence == "destroy";

    /// <summary>The levels for <paramref name="host"/>, in order.</summary>
    public IReadOnlyList<string> LevelsFor(string host) => HostLevels.TryGetValue(host, out var levels) ? levels : Levels;

    public IEnumerable<(string Key, string Problem)> Problems()
    {
        if (SelfFence is not ("destroy" or "none"))
            yield return ("self-fence", $"'{SelfFence}' is not one of destroy, none");
        foreach (var problem in LevelProblems("levels", Levels))
            yield return problem;
        foreach (var (host, levels) in HostLevels)
        {
            if (!VmSpecValidator.IsValidName(host))
                yield return ($"host-levels.{host}", $"'{host}' is not a valid node name: use {VmSpecValidator.NameRuleText}");
            foreach (var problem in LevelProblems($"host-levels.{host}", levels))
                yield return problem;
        }

        if (RetryInterval <= TimeSpan.Zero)
            yield return ("retry-interval", "must be a positive duration, like 5s");
        if (Power.Timeout <= TimeSpan.Zero)
            yield return ("power.timeout", "must be a positive duration, like 20s");
        if (Power.OffWait < TimeSpan.Zero)
            yield return ("power.off-wait", "must not be negative");
        foreach (var (host, power) in Power.Hosts)
        {
            if (!VmSpecValidator.IsValidName(host))
                yield return ($"power.hosts.{host}", $"'{host}' is not a valid node name: use {VmSpecValidator.NameRuleText}");
            if (string.IsNullOrWhiteSpace(power.Agent) || !power.Agent.StartsWith('/'))
                yield return ($"power.hosts.{host}.agent", $"'{power.Agent}' must be the absolute path of a fence agent, like /usr/sbin/fence_ipmilan (Debian package fence-agents)");
            else if (!File.Exists(power.Agent))
                yield return ($"power.hosts.{host}.agent", $"{power.Agent} does not exist on this node; install it (fence_* agents are in the Debian package fence-agents) on every node, since any node may run the fencer");
            foreach (var key in power.Args.Keys.Concat(power.SecretFiles.Keys).Where(k => k == "action"))
                yield return ($"power.hosts.{host}.args.{key}", "is set by the fencer itself (off, then status); remove it");
            foreach (var (key, path) in power.SecretFiles)
            {
                if (!path.StartsWith('/'))
                    yield return ($"power.hosts.{host}.secret-files.{key}", $"'{path}' must be an absolute file path");
                else if (!File.Exists(path))
                    yield return ($"power.hosts.{host}.secret-files.{key}", $"{path} does not exist on this node; every node needs it, since any node may run the fencer");
                if (power.Args.ContainsKey(key))
                    yield return ($"power.hosts.{host}.secret-files.{key}", $"is also in args; give {key} in one place");
            }
        }

        if (Watchdog.Device.Length > 0 && !Watchdog.Device.StartsWith('/'))
            yield return ("watchdog.device", $"'{Watchdog.Device}' must be an absolute path, like /dev/watchdog, or empty for none");
        if (Watchdog.Timeout < TimeSpan.FromSeconds(1) || Watchdog.Timeout > TimeSpan.FromHours(1) || Watchdog.Timeout.Ticks % TimeSpan.TicksPerSecond != 0)
            yield return ("watchdog.timeout", "must be whole seconds from 1s to 1h (the device counts in seconds)");
        if (Watchdog.Interval <= TimeSpan.Zero || Watchdog.Interval * 2 > Watchdog.Timeout)
            yield return ("watchdog.interval", $"must be positive and at most half of watchdog.timeout ({Watchdog.Timeout.TotalSeconds:0}s), so one late pet does not reset the host");
        if (Watchdog.Margin < TimeSpan.Zero)
            yield return ("watchdog.margin", "must not be negative");
    }

    private static IEnumerable<(string Key, string Problem)> LevelProblems(string key, List<string> levels)
    {
        foreach (var level in levels.Where(l => !KnownLevels.Contains(l)))
            yield return (key, $"'{level}' is not a fence level; use {string.Join(", ", KnownLevels)}");
        foreach (var level in levels.GroupBy(l => l).Where(g => g.Count() > 1).Select(g => g.Key))
            yield return (key, $"'{level}' is listed twice; each level is tried once, in order");
    }

    internal sealed class PowerFencing
    {
        /// <summary>Limit for one run of a fence agent.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);

        /// <summary>How long after a successful <c>off</c> the agent's <c>status</c> may still say on.</summary>
        [ConfigurationKeyName("off-wait")]
        public TimeSpan OffWait { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary>Per host: its fence agent and arguments. A host without an entry has no power level.</summary>
        public Dictionary<string, PowerHost> Hosts { get; set; } = new(StringComparer.Ordinal);
    }

    internal sealed class PowerHost
    {
        /// <summary>Absolute path of the fence agent (fence_ipmilan, fence_redfish, fence_virsh...).</summary>
        public string Agent { get; set; } = "";

        /// <summary>Its arguments, as key=value lines on its standard input (ip, username, plug...).</summary>
        public Dictionary<string, string> Args { get; set; } = new(StringComparer.Ordinal);

        /// <summary>Arguments read from files when the agent runs (password = /etc/virt/hv-03.pass): never in configuration, never logged.</summary>
        [ConfigurationKeyName("secret-files")]
        public Dictionary<string, string> SecretFiles { get; set; } = new(StringComparer.Ordinal);
    }

    internal sealed class WatchdogSettings
    {
        /// <summary>The watchdog device petted while this node is a healthy member (/dev/watchdog); empty: none.</summary>
        public string Device { get; set; } = "";

        /// <summary>How long the device runs without a pet before it resets the host; set on the device.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary>How often the device is petted.</summary>
        public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>Added to a lost host's watchdog timeout before the watchdog level counts it fenced.</summary>
        public TimeSpan Margin { get; set; } = TimeSpan.FromSeconds(5);
    }
}
