using System.Globalization;
using System.Text;
using Virt.Actors.Fencing;

namespace Virt.Node.Fence;

/// <summary>
/// The <c>power</c> level: the host's fence agent (virt.fencing.power.hosts) switches it off, then its status must
/// say off. A successful <c>off</c> alone confirms nothing: only <c>status</c> answering off does (asked every
/// second for up to off-wait). A failed <c>off</c> is followed by one <c>status</c>, since some agents fail to
/// switch off a host that is already off.
/// </summary>
internal sealed class PowerFenceLevel(FencingOptions.PowerFencing options, TimeProvider time) : IFenceLevel
{
    private static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(1);

    /// <summary>fence-agents' exit code for status: off (0 is on, anything else an error).</summary>
    private const int StatusOff = 2;

    private const int LineMax = 200;

    public string Name => "power";

    /// <summary>Throws only <see cref="OperationCanceledException"/>, when <paramref name="cancellationToken"/> is cancelled (a running agent is killed first).</summary>
    public async Task<FenceOutcome> Fence(FenceTarget target, CancellationToken cancellationToken)
    {
        if (!options.Hosts.TryGetValue(target.Host, out var host))
            return FenceOutcome.NotDone($"no power fence agent is configured for {target.Host} (virt.fencing.power.hosts.{target.Host})");

        var label = $"power agent {Path.GetFileName(host.Agent)}";
        if (AgentProblem(host.Agent) is { } problem)
            return FenceOutcome.NotDone($"{label}: {problem}");
        if (!TryReadArguments(host, target.Host, out var arguments, out var secrets, out problem))
            return FenceOutcome.NotDone($"{label}: {problem}");

        var evidence = new Evidence(label, secrets, options.Timeout);
        var off = await Run(host.Agent, "off", arguments, cancellationToken);
        if (off is FenceAgentRun.NotStarted notStarted)
            return FenceOutcome.NotDone(evidence.Say($"could not start {host.Agent}: {notStarted.Why}"));

        if (off is not FenceAgentRun.Exited { Code: 0 })
        {
            var once = await Run(host.Agent, "status", arguments, cancellationToken);
            var said = $"off {evidence.Describe(off, "failed")}; status {evidence.DescribeStatus(once)}";
            return IsOff(once) ? FenceOutcome.Done(evidence.Say(said)) : FenceOutcome.NotDone(evidence.Say(said));
        }

        var since = time.GetTimestamp();
        while (true)
        {
            var status = await Run(host.Agent, "status", arguments, cancellationToken);
            if (IsOff(status))
                return FenceOutcome.Done(evidence.Say("off ok, status off"));

            var waited = time.GetElapsedTime(since);
            if (waited >= options.OffWait)
            {
                var after = Seconds(options.OffWait);
                return FenceOutcome.NotDone(evidence.Say(status is FenceAgentRun.Exited { Code: 0 }
                    ? $"off ok, status still on after {after}"
                    : $"off ok, status {evidence.DescribeStatus(status)} (not off after {after})"));
            }

            var left = options.OffWait - waited;
            await Task.Delay(left < StatusInterval ? left : StatusInterval, time, cancellationToken);
        }
    }

    private static bool IsOff(FenceAgentRun run) => run is FenceAgentRun.Exited { Code: StatusOff };

    private Task<FenceAgentRun> Run(string agent, string action, string arguments, CancellationToken cancellationToken) =>
        FenceAgentRun.Start(agent, $"action={action}\n{arguments}", options.Timeout, time, cancellationToken);

    private static string? AgentProblem(string path)
    {
        if (!File.Exists(path))
            return $"{path} does not exist on this node; install it (fence_* agents are in the Debian package fence-agents)";
        const UnixFileMode executable = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & executable) == 0 ? $"{path} is not executable (chmod +x it)" : null;
    }

    /// <summary>The agent's key=value lines after action: the args, then the secret files' contents (returned apart, to be redacted).</summary>
    private static bool TryReadArguments(FencingOptions.PowerHost host, string hostName, out string arguments, out List<string> secrets, out string? problem)
    {
        var lines = new StringBuilder();
        secrets = [];
        arguments = "";
        problem = null;
        foreach (var (key, value) in host.Args)
        {
            if (value.Contains('\n') || value.Contains('\r'))
            {
                problem = $"virt.fencing.power.hosts.{hostName}.args.{key} holds a line break; an agent argument is one line";
                return false;
            }

            lines.Append(key).Append('=').Append(value).Append('\n');
        }

        foreach (var (key, path) in host.SecretFiles)
        {
            string value;
            try
            {
                value = File.ReadAllText(path).TrimEnd('\n', '\r');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem = $"cannot read the secret file {path} (virt.fencing.power.hosts.{hostName}.secret-files.{key}): {e.Message}";
                return false;
            }

            if (value.Contains('\n') || value.Contains('\r'))
            {
                problem = $"the secret file {path} (virt.fencing.power.hosts.{hostName}.secret-files.{key}) has more than one line; an agent argument is one line";
                return false;
            }

            if (value.Length > 0)
                secrets.Add(value);
            lines.Append(key).Append('=').Append(value).Append('\n');
        }

        arguments = lines.ToString();
        return true;
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    /// <summary>Evidence sentences: what the agent answered, its last line of output, and never a secret's value.</summary>
    private sealed class Evidence(string label, List<string> secrets, TimeSpan timeout)
    {
        public string Say(string what) => Redact($"{label}: {what}");

        public string DescribeStatus(FenceAgentRun run) => run switch
        {
            FenceAgentRun.Exited { Code: 0 } => "on",
            FenceAgentRun.Exited { Code: StatusOff } => "off",
            _ => Describe(run, "failed"),
        };

        /// <summary>A run that did not succeed: "failed (exit 1): last line", "timed out after 20 s (killed)".</summary>
        public string Describe(FenceAgentRun run, string failed) => run switch
        {
            FenceAgentRun.Exited e when (LastLine(e.Stderr) ?? LastLine(e.Stdout)) is { } line => $"{failed} (exit {e.Code}): {line}",
            FenceAgentRun.Exited e => $"{failed} (exit {e.Code})",
            FenceAgentRun.TimedOut => $"timed out after {Seconds(timeout)} (killed)",
            FenceAgentRun.NotStarted n => $"could not start: {n.Why}",
            _ => throw new ArgumentOutOfRangeException(nameof(run)),
        };

        private string? LastLine(string output)
        {
            var line = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
            if (line is null)
                return null;
            line = Redact(line);
            return line.Length <= LineMax ? line : line[..LineMax] + "...";
        }

        private string Redact(string text) =>
            secrets.Aggregate(text, (t, secret) => t.Replace(secret, "***", StringComparison.Ordinal));
    }
}
