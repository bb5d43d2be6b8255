using System.Runtime.Versioning;
using Virt.Actors.Fencing;
using Virt.Node.Fence;
using Virt.Tests.Support;

namespace Virt.Tests.Fence;

/// <summary>
/// The power level against the real fence_test_host agent and real processes as the "host": off, then status must
/// say off; a failed off is rescued only by status saying off; a run past its limit is killed with its children;
/// secrets reach the agent and nothing else.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class PowerFenceLevelTests : IDisposable
{
    private const string Host = "hv-03";

    private readonly TempDirectory _dir = new("virt-power");
    private readonly List<ChildProcess> _processes = [];

    public void Dispose()
    {
        foreach (var process in _processes)
            process.Dispose();
        _dir.Dispose();
    }

    private static FenceTarget Target(string host = Host) => new(host, 1, DateTimeOffset.UnixEpoch, null);

    private static PowerFenceLevel Level(FencingOptions.PowerHost? entry, TimeSpan? offWait = null, TimeSpan? timeout = null, TimeProvider? time = null)
    {
        var options = new FencingOptions.PowerFencing { OffWait = offWait ?? TimeSpan.FromSeconds(10), Timeout = timeout ?? TimeSpan.FromSeconds(20) };
        if (entry is not null)
            options.Hosts[Host] = entry;
        return new PowerFenceLevel(options, time ?? TimeProvider.System);
    }

    private ChildProcess Start(string program, params string[] args)
    {
        var process = ChildProcess.Start(program, args);
        _processes.Add(process);
        return process;
    }

    /// <summary>A plain `sleep 1000`, its pid.</summary>
    private int Sleeper() => Start("sleep", "1000").Id;

    private string Record => _dir.File("record");

    /// <summary>The actions the agent was run with, in order (from its record=...).</summary>
    private List<string> RecordedActions() =>
        File.ReadAllLines(Record).Where(l => l.StartsWith("action=", StringComparison.Ordinal)).Select(l => l["action=".Length..]).ToList();

    [Fact]
    public async Task Off_kills_every_process_of_the_host_and_status_confirms_it()
    {
        var plain = Sleeper();
        // A process group leader (setsid) with a child of its own: only the leader is listed, off kills the group.
        var group = Start("setsid", "bash", "-c", "echo $$; sleep 1000 & echo $!; wait");
        var leader = int.Parse(await group.ReadLine(TimeSpan.FromSeconds(20)) ?? "");
        var child = int.Parse(await group.ReadLine(TimeSpan.FromSeconds(20)) ?? "");
        TestFenceAgent.WriteHost(_dir.Path, Host, [plain, leader]);
        Assert.All(new[] { plain, leader, child }, pid => Assert.True(TestFenceAgent.IsAlive(pid)));

        var outcome = await Level(TestFenceAgent.Entry(_dir.Path, Host, ("record", Record))).Fence(Target(), CancellationToken.None);

        Assert.Equal(FenceOutcome.Done("power agent fence_test_host: off ok, status off"), outcome);
        // The listed ones are gone when off returns; the leader's child goes with its group (SIGKILL takes a moment).
        Assert.All(new[] { plain, leader }, pid => Assert.False(TestFenceAgent.IsAlive(pid), $"{pid} survived the fence"));
        await Eventually.Until(() => !TestFenceAgent.IsAlive(child), "the group leader's child is killed with its group");
        Assert.Equal(["off", "status"], RecordedActions());
        // The fence-agents protocol: nothing on the command line, everything on standard input.
        Assert.All(File.ReadAllLines(Record).Where(l => l.StartsWith('#')), l => Assert.Equal("# arguments: 0", l));
        Assert.Contains($"plug={Host}", File.ReadAllLines(Record));
    }

    [Fact]
    public async Task A_status_that_stays_on_after_off_is_not_confirmed()
    {
        var pid = Sleeper();
        TestFenceAgent.WriteHost(_dir.Path, Host, [pid]);

        var outcome = await Level(TestFenceAgent.Entry(_dir.Path, Host, ("stuck", "on"), ("record", Record)), offWait: TimeSpan.FromSeconds(2))
            .Fence(Target(), CancellationToken.None);

        Assert.Equal(FenceOutcome.NotDone("power agent fence_test_host: off ok, status still on after 2 s"), outcome);
        Assert.False(TestFenceAgent.IsAlive(pid), "off ran, and killed the host's process");
        var actions = RecordedActions();
        Assert.Equal("off", actions[0]);
        Assert.True(actions.Skip(1).All(a => a == "status") && actions.Count >= 2, string.Join(", ", actions));
    }

    [Fact]
    public async Task An_off_that_fails_on_a_host_already_off_is_confirmed_by_status_with_evidence_saying_so()
    {
        TestFenceAgent.WriteHost(_dir.Path, Host, []);

        var outcome = await Level(TestFenceAgent.Entry(_dir.Path, Host, ("fail_off", "1"))).Fence(Target(), CancellationToken.None);

        Assert.Equal(FenceOutcome.Done("power agent fence_test_host: off failed (exit 1): fence_test_host: off refused (fail_off=1); status off"), outcome);
    }

    [Fact]
    public async Task An_off_that_fails_on_a_host_still_on_is_not_confirmed()
    {
        var pid = Sleeper();
        TestFenceAgent.WriteHost(_dir.Path, Host, [pid]);

        var outcome = await Level(TestFenceAgent.Entry(_dir.Path, Host, ("fail_off", "1"), ("record", Record))).Fence(Target(), CancellationToken.None);

        Assert.Equal(FenceOutcome.NotDone("power agent fence_test_host: off failed (exit 1): fence_test_host: off refused (fail_off=1); status on"), outcome);
        Assert.True(TestFenceAgent.IsAlive(pid));
        Assert.Equal(["off", "status"], RecordedActions());
    }

    [Fact]
    public async Task A_host_without_an_entry_has_no_power_level()
    {
        var outcome = await Level(TestFenceAgent.Entry(_dir.Path, Host)).Fence(Target("hv-09"), CancellationToken.None);

        Assert.Equal(FenceOutcome.NotDone("no power fence agent is configured for hv-09 (virt.fencing.power.hosts.hv-09)"), outcome);
    }

    [Fact]
    public async Task A_missing_agent_is_not_done_with_a_reason()
    {
        var entry = TestFenceAgent.Entry(_dir.Path, Host);
        entry.Agent = _dir.File("fence_nothing");

        var outcome = await Level(entry).Fence(Target(), CancellationToken.None);

        Assert.False(outcome.Confirmed);
        Assert.Equal($"power agent fence_nothing: {entry.Agent} does not exist on this node; install it (fence_* agents are in the Debian package fence-agents)", outcome.Evidence);
    }

    [Fact]
    public async Task An_agent_that_is_not_executable_is_not_done_with_a_reason()
    {
        var entry = TestFenceAgent.Entry(_dir.Path, Host);
        entry.Agent = _dir.File("fence_plain");
        File.Copy(TestFenceAgent.Path, entry.Agent);
        File.SetUnixFileMode(entry.Agent, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var outcome = await Level(entry).Fence(Target(), CancellationToken.None);

        Assert.Equal(FenceOutcome.NotDone($"power agent fence_plain: {entry.Agent} is not executable (chmod +x it)"), outcome);
    }

    [Fact]
    public async Task A_secret_file_reaches_the_agent_and_nothing_else()
    {
        const string secret = "s3cret-Pa55";
        var pid = Sleeper();
        TestFenceAgent.WriteHost(_dir.Path, Host, [pid]);
        File.WriteAllText(_dir.File("hv-03.pass"), secret + "\n");
        // verbose=1: the agent prints everything it received (the password too) as its last line on stderr, which is
        // the line the evidence quotes when off fails.
        var entry = TestFenceAgent.Entry(_dir.Path, Host, ("verbose", "1"), ("fail_off", "1"), ("record", Record));
        entry.SecretFiles["password"] = _dir.File("hv-03.pass");

        var outcome = await Level(entry).Fence(Target(), CancellationToken.None);

        var received = File.ReadAllLines(Record);
        Assert.Equal(2, received.Count(l => l == $"password={secret}"));
        Assert.False(outcome.Confirmed);
        Assert.Contains("off failed (exit 1): fence_test_host received: action=off", outcome.Evidence);
        Assert.Contains("password=***", outcome.Evidence);
        Assert.DoesNotContain(secret, outcome.ToString());
    }

    [Fact]
    public async Task An_unreadable_secret_file_is_not_done_with_a_reason()
    {
        TestFenceAgent.WriteHost(_dir.Path, Host, []);
        var entry = TestFenceAgent.Entry(_dir.Path, Host, ("record", Record));
        entry.SecretFiles["password"] = _dir.File("gone.pass");

        var outcome = await Level(entry).Fence(Target(), CancellationToken.None);

        Assert.False(outcome.Confirmed);
        Assert.StartsWith($"power agent fence_test_host: cannot read the secret file {entry.SecretFiles["password"]} (virt.fencing.power.hosts.hv-03.secret-files.password): ", outcome.Evidence);
        Assert.False(File.Exists(Record), "the agent must not run without its secret");
    }

    [Fact]
    public async Task A_secret_file_of_several_lines_is_not_done_and_its_content_is_not_shown()
    {
        TestFenceAgent.WriteHost(_dir.Path, Host, []);
        File.WriteAllText(_dir.File("two.pass"), "first-half\naction=on\n");
        var entry = TestFenceAgent.Entry(_dir.Path, Host, ("record", Record));
        entry.SecretFiles["password"] = _dir.File("two.pass");

        var outcome = await Level(entry).Fence(Target(), CancellationToken.None);

        Assert.Equal(FenceOutcome.NotDone($"power agent fence_test_host: the secret file {entry.SecretFiles["password"]} (virt.fencing.power.hosts.hv-03.secret-files.password) has more than one line; an agent argument is one line"), outcome);
        Assert.False(File.Exists(Record));
    }

    /// <summary>An agent whose off hangs (with a child of its own) and whose status says on; it writes both pids when off is under way.</summary>
    private FencingOptions.PowerHost HangingAgent()
    {
        var agent = _dir.File("fence_hang");
        File.WriteAllText(agent, $$"""
            #!/bin/bash
            action=
            while IFS= read -r line; do [[ $line == action=* ]] && action=${line#action=}; done
            [[ $action == status ]] && exit 0
            sleep 1000 &
            echo "$$ $!" >{{_dir.File("hang.tmp")}} && mv {{_dir.File("hang.tmp")}} {{_dir.File("hang.pids")}}
            wait

            """);
        File.SetUnixFileMode(agent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new FencingOptions.PowerHost { Agent = agent };
    }

    private async Task<int[]> HangingPids()
    {
        await Eventually.Until(() => File.Exists(_dir.File("hang.pids")), "the hanging agent's off is under way");
        var pids = File.ReadAllText(_dir.File("hang.pids")).Split(' ', StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        Assert.All(pids, pid => Assert.True(TestFenceAgent.IsAlive(pid)));
        return pids;
    }

    [Fact]
    public async Task A_run_past_the_timeout_is_killed_with_its_children_and_the_evidence_says_so()
    {
        var time = new ManualTimeProvider();
        var fence = Level(HangingAgent(), timeout: TimeSpan.FromSeconds(20), time: time).Fence(Target(), CancellationToken.None);
        var pids = await HangingPids();
        // The run's time limit is the one timer on the clock while off runs.
        await Eventually.Until(() => time.ActiveTimers == 1, "the run's time limit is set");

        time.Advance(TimeSpan.FromSeconds(20));
        var outcome = await fence.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(FenceOutcome.NotDone("power agent fence_hang: off timed out after 20 s (killed); status on"), outcome);
        await Eventually.Until(() => !pids.Any(TestFenceAgent.IsAlive), "the agent and its child are killed");
    }

    [Fact]
    public async Task Cancelling_kills_the_running_agent_and_throws()
    {
        using var cancel = new CancellationTokenSource();
        var fence = Level(HangingAgent()).Fence(Target(), cancel.Token);
        var pids = await HangingPids();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fence.WaitAsync(TimeSpan.FromSeconds(30)));
        await Eventually.Until(() => !pids.Any(TestFenceAgent.IsAlive), "the agent and its child are killed");
    }
}
