using System.Globalization;
using Virt.Actors.Fsm;

namespace Virt.Actors.Vm;

/// <summary>
/// The VM lifecycle as a pure function. All policy lives here: which command is allowed in which phase (and why
/// not), when an unexpected stop means restart, backoff, or Failed, and when to escalate a stop. Where a VM runs is
/// not decided here: a start asks for placement (<see cref="VmEvent.PlacementRequested"/>) and the balancer's answer
/// comes back as <see cref="VmCommand.Placed"/> or <see cref="VmCommand.PlacementRefused"/>.
/// </summary>
public sealed class VmDecider(VmDefaults defaults) : IDecider<VmState, VmCommand, VmEvent>
{
    private const int KeptReasons = 10;

    public VmState Initial => VmState.Absent;

    public Decision<VmEvent> Decide(VmState s, VmCommand command, DateTimeOffset now)
    {
        if (command is VmCommand.Define define)
        {
            return s.Exists
                ? Reject($"VM {define.Spec.Name} already exists")
                : Accept(new VmEvent.Defined(define.Spec, now));
        }

        if (!s.Exists)
        {
            // Observations about a VM that is gone are not the operator's business.
            return command is VmCommand.Start or VmCommand.Stop or VmCommand.Restart or VmCommand.Delete or VmCommand.ClearFailures or VmCommand.UpdateSpec
                ? Reject("VM does not exist")
                : Decision<VmEvent>.Nothing;
        }

        var name = s.Spec!.Name;
        var next = s.Op + 1;
        if (s.AwaitingFence is { } awaited && AfterLoss(s, awaited, command, now) is { } decided)
            return decided;
        if (s.AwaitingFence is { } lost && command is VmCommand.Start or VmCommand.Restart or VmCommand.Delete or VmCommand.ClearFailures)
            return Reject($"its host {lost} was lost while it ran there and is not fenced yet, so it may still run there; nothing starts it elsewhere until then");
        return (command, s.Phase) switch
        {
            (VmCommand.UpdateSpec { IfVersion: { } expected }, _) when expected != VmSpec.Version(s.PendingSpec ?? s.Spec) =>
                Reject($"its spec changed since version {expected} was read; it is now version {VmSpec.Version(s.PendingSpec ?? s.Spec)}"),
            (VmCommand.UpdateSpec u, _) when u.Spec.Uuid != s.Spec.Uuid => Reject("the uuid of a VM cannot change"),
            (VmCommand.UpdateSpec u, _) when VmSpec.Same(u.Spec with { Name = name }, s.PendingSpec ?? s.Spec) => Decision<VmEvent>.Nothing,
            (VmCommand.UpdateSpec u, _) => Accept(new VmEvent.SpecUpdated(u.Spec with { Name = name }, now)),

            (VmCommand.Start start, VmPhase.Stopped or VmPhase.Recovering) => Accept(Place(next, "start requested", now, pin: start.Pin)),
            (VmCommand.Start, VmPhase.Placing or VmPhase.Starting or VmPhase.Running) => Decision<VmEvent>.Nothing,
            (VmCommand.Start, VmPhase.Stopping) when s.Then == AfterStop.Start => Decision<VmEvent>.Nothing,
            (VmCommand.Start, VmPhase.Stopping) => Reject("it is stopping; start it again once it has stopped"),
            (VmCommand.Start, VmPhase.Failed) => Reject($"it failed ({Last(s)}); run 'virt vm clear-failures {name}' first"),

            (VmCommand.Stop stop, VmPhase.Running or VmPhase.Starting) => Accept(new VmEvent.StopRequested(next, stop.Force ? StopMode.Force : StopMode.Graceful, AfterStop.Nothing, stop.Force ? "force-stop requested" : "stop requested", now)),
            (VmCommand.Stop { Force: true }, VmPhase.Stopping) when s.StopMode == StopMode.Graceful => Accept(new VmEvent.StopEscalated(next, now), Desire(PowerState.Stopped, "force-stop requested", now)),
            (VmCommand.Stop, VmPhase.Stopping) when s.Then == AfterStop.Start => Accept(Desire(PowerState.Stopped, "stop requested", now)),
            (VmCommand.Stop, VmPhase.Placing or VmPhase.Recovering or VmPhase.Failed) when s.Desired == PowerState.Running => Accept(Desire(PowerState.Stopped, "stop requested", now)),
            (VmCommand.Stop, _) => Decision<VmEvent>.Nothing,

            (VmCommand.Restart, VmPhase.Running) => Accept(new VmEvent.StopRequested(next, StopMode.Graceful, AfterStop.Start, "restart requested", now)),
            (VmCommand.Restart, VmPhase.Stopped or VmPhase.Recovering) => Accept(Place(next, "restart requested", now)),
            (VmCommand.Restart, VmPhase.Placing) => Decision<VmEvent>.Nothing,
            (VmCommand.Restart, VmPhase.Failed) => Reject($"it failed ({Last(s)}); run 'virt vm clear-failures {name}' first"),
            (VmCommand.Restart, _) => Reject($"it is {Lower(s.Phase)}; restart it once it is running"),

            (VmCommand.Delete, VmPhase.Stopped or VmPhase.Failed or VmPhase.Recovering or VmPhase.Placing) => Accept(new VmEvent.Deleted(now)),
            (VmCommand.Delete { Force: true }, VmPhase.Running or VmPhase.Starting or VmPhase.Stopping) => Accept(new VmEvent.StopRequested(next, StopMode.Force, AfterStop.Delete, "delete --force requested", now)),
            (VmCommand.Delete, _) => Reject($"it is {Lower(s.Phase)}; stop it first, or delete with --force to stop and delete"),

            (VmCommand.ClearFailures, VmPhase.Failed) => s.Desired == PowerState.Running
                ? Accept(new VmEvent.FailuresCleared(now), Place(next, "failures cleared", now))
                : Accept(new VmEvent.FailuresCleared(now)),
            (VmCommand.ClearFailures, _) => s.Restarts.Count > 0 || s.FailureReasons.Count > 0 ? Accept(new VmEvent.FailuresCleared(now)) : Decision<VmEvent>.Nothing,

            (VmCommand.Placed p, VmPhase.Placing) when p.Op == s.Op => Accept(new VmEvent.StartRequested(next, p.Node, s.Why ?? "start requested", false, now)),

            (VmCommand.HostLost l, VmPhase.Starting or VmPhase.Running or VmPhase.Stopping or VmPhase.Migrating) when s.Node == l.Node =>
                Accept(new VmEvent.HostLost(l.Node, l.How == "lost" ? $"host {l.Node} lost; waiting for fence" : $"host {l.Node} {l.How}; waiting for it to come back or be fenced", now, l.Incarnation)),
            (VmCommand.PlacementRefused r, VmPhase.Placing) when r.Op == s.Op => Accept(new VmEvent.PlacementFailed(r.Op, r.Reason, now)),

            (VmCommand.StartDone d, VmPhase.Starting) when d.Op == s.Op => Accept(new VmEvent.Started(d.Op, now, d.HostBoot)),
            (VmCommand.StartRefused r, VmPhase.Starting) when r.Op == s.Op => AfterFailure(s, new VmEvent.StartFailed(r.Op, r.Reason, now), $"start failed: {r.Reason}", failure: true, now),
            (VmCommand.StartTimedOut t, VmPhase.Starting) when t.Op == s.Op =>
                AfterFailure(s, new VmEvent.StartFailed(t.Op, $"did not start within {Seconds(defaults.StartTimeout)}", now), $"did not start within {Seconds(defaults.StartTimeout)}", failure: true, now),

            (VmCommand.GuestReady g, VmPhase.Running) when g.Op == s.Op && s.ReadySince is null => Accept(new VmEvent.Ready(g.Op, g.Evidence, now)),
            (VmCommand.ReadyTimedOut t, VmPhase.Running) when t.Op == s.Op && s.AwaitingReady && !s.ReadyOverdue =>
                Accept(new VmEvent.ReadyOverdue(t.Op, NotReady(s.Spec.ReadyCheck, ReadyTimeout(s)), now)),

            (VmCommand.StopDone d, VmPhase.Stopping) when d.Op == s.Op => FinishStop(s, now),
            (VmCommand.DomainStopped, VmPhase.Stopping) => FinishStop(s, now),
            (VmCommand.StopTimedOut t, VmPhase.Stopping) when t.Op == s.Op && s.StopMode == StopMode.Graceful => Accept(new VmEvent.StopEscalated(next, now)),

            (VmCommand.DomainStopped stopped, VmPhase.Running) =>
                AfterFailure(s, new VmEvent.StoppedUnexpectedly(stopped.Reason, now), Describe(stopped.Reason), failure: stopped.Reason != "shutdown", now),
            (VmCommand.DomainRunning r, VmPhase.Recovering or VmPhase.Placing) => Accept(new VmEvent.Adopted(r.Node, "found running", now, r.HostBoot)),
            (VmCommand.DomainRunning, VmPhase.Stopped) when s.Desired == PowerState.Stopped =>
                Accept(new VmEvent.StopRequested(next, StopMode.Graceful, AfterStop.Nothing, "running outside Virt's control while it should be stopped", now)),

            (VmCommand.RetryStart r, VmPhase.Recovering) when r.Op == s.Op => Accept(Place(next, $"automatic restart {s.Restarts.Count}", now, automatic: true)),

            (VmCommand.Observed o, _) => Reconcile(s, o, now),
            _ => Decision<VmEvent>.Nothing,
        };
    }

    /// <summary>
    /// While the VM waits for the host it was lost on (<paramref name="host"/>): a fence of that host (of the lost
    /// incarnation, or of the host as a whole) frees it, and so does the host's new incarnation finding it not running
    /// there (its libvirt is the one the VM ran under). Freed, a VM that should run starts elsewhere (a host failure is
    /// not the VM's: it spends no restart), unless its restart policy is never. Null: the command is decided as usual.
    /// </summary>
    private Decision<VmEvent>? AfterLoss(VmState s, string host, VmCommand command, DateTimeOffset now)
    {
        switch (command)
        {
            case VmCommand.HostFenced f when f.Node == host && (f.Incarnation == 0 || s.AwaitingIncarnation == 0 || f.Incarnation == s.AwaitingIncarnation):
                return Freed(s, new VmEvent.HostFenced(host, f.Evidence, now), $"host {host} was lost and is fenced ({f.Evidence})", now);
            case VmCommand.HostFenced:
                return Decision<VmEvent>.Nothing;
            case VmCommand.FenceWaiting w when w.Node == host && s.LastError != w.Reason:
                return Accept(new VmEvent.FencePending(host, w.Reason, now));
            case VmCommand.FenceWaiting:
                return Decision<VmEvent>.Nothing;
            case VmCommand.Observed { Running: true } o when o.Node == host && s.Phase == VmPhase.Stopped:
                return Accept(
                    new VmEvent.Adopted(host, "found running on its host when it came back", now, o.HostBoot),
                    new VmEvent.StopRequested(s.Op + 1, StopMode.Graceful, AfterStop.Nothing, "found running when its host came back, while it should be stopped", now));
            case VmCommand.Observed { Running: false } o when o.Node == host:
                return Freed(s, new VmEvent.HostFenced(host, $"{host} is back and its libvirt does not run it", now), $"host {host} is back and does not run it", now);
            default:
                return null;
        }
    }

    private Decision<VmEvent> Freed(VmState s, VmEvent.HostFenced fenced, string why, DateTimeOffset now)
    {
        if (s.Phase != VmPhase.Recovering || s.Desired != PowerState.Running)
            return Accept(fenced);
        return s.Spec!.Restart == RestartPolicy.Never
            ? Accept(fenced, new VmEvent.DesiredChanged(PowerState.Stopped, $"{why}; restart policy never leaves it stopped", now))
            : Accept(fenced, Place(s.Op + 1, $"{why}; starting it elsewhere", now, automatic: true));
    }

    /// <summary>The state after <paramref name="e"/>; a pending spec takes effect once the VM is off its host (see <see cref="VmState.PendingSpec"/>).</summary>
    public VmState Apply(VmState s, VmEvent e)
    {
        var next = Fold(s, e);
        if (next.Phase is not (VmPhase.Running or VmPhase.Stopping or VmPhase.Migrating) && (next.ReadySince is not null || next.ReadyOverdue))
            next = next with { ReadySince = null, ReadyEvidence = null, ReadyOverdue = false }; // readiness belongs to one run on a host
        if (e.Request is { } request)
            next = next with { Requests = [.. next.Requests.TakeLast(VmState.KeptRequests - 1), request] };
        return next.PendingSpec is { } pending && next.Phase != s.Phase && next.Phase is VmPhase.Stopped or VmPhase.Failed or VmPhase.Recovering or VmPhase.Placing
            ? next with { Spec = pending, PendingSpec = null }
            : next;
    }

    /// <summary>
    /// Whether a spec change takes effect at once: always for a VM that is off any host; for one that is placing,
    /// starting, running or stopping only when the machine stays the same (policy, priority, labels).
    /// </summary>
    private static VmState Updated(VmState s, VmSpec spec) =>
        s.Phase is VmPhase.Stopped or VmPhase.Failed or VmPhase.Recovering || VmSpec.SameMachine(spec, s.Spec!)
            ? s with { Spec = spec, PendingSpec = null }
            : s with { Spec = VmSpec.MachineWithPolicy(s.Spec!, spec), PendingSpec = spec };

    private VmState Fold(VmState s, VmEvent e) => e switch
    {
        VmEvent.Defined d => VmState.Absent with { Phase = VmPhase.Stopped, Spec = d.Spec, Since = d.At, Op = s.Op, Requests = s.Requests },
        VmEvent.SpecUpdated u => Updated(s, u.Spec),
        VmEvent.PlacementRequested p => s with
        {
            Phase = VmPhase.Placing, Desired = PowerState.Running, Node = null, Op = p.Op, Since = p.At, Then = AfterStop.Nothing, Why = p.Why,
            Automatic = p.Automatic, Pin = p.Pin, Restarts = p.CountsAsRestart ? [.. Window(s, p.At), p.At] : s.Restarts,
        },
        VmEvent.PlacementFailed f when s.Automatic => s with
        {
            Phase = VmPhase.Recovering, RetryDelay = defaults.PlacementRetry, Since = f.At, LastError = $"no host can run it: {f.Reason}",
        },
        VmEvent.PlacementFailed f => s with
        {
            Phase = VmPhase.Stopped, Desired = PowerState.Stopped, Since = f.At, LastError = $"no host can run it: {f.Reason}",
        },
        VmEvent.StartRequested r => s with
        {
            Phase = VmPhase.Starting, Desired = PowerState.Running, Node = r.Node, LastNode = r.Node, Op = r.Op, Since = r.At, Then = AfterStop.Nothing,
            Restarts = r.CountsAsRestart ? [.. Window(s, r.At), r.At] : s.Restarts,
        },
        VmEvent.Started st => RunningSince(s with { Phase = VmPhase.Running, Since = st.At, LastError = null, HostBoot = st.HostBoot ?? s.HostBoot }, st.At),
        VmEvent.Adopted a => RunningSince(s with { Phase = VmPhase.Running, Node = a.Node, LastNode = a.Node, Since = a.At, Desired = PowerState.Running, HostBoot = a.HostBoot ?? s.HostBoot, AwaitingFence = null, AwaitingIncarnation = 0 }, a.At),
        VmEvent.Ready r => s with { ReadySince = r.At, ReadyEvidence = r.Evidence, LastError = s.ReadyOverdue ? null : s.LastError },
        VmEvent.ReadyOverdue o => s with { ReadyOverdue = true, LastError = o.Reason },
        VmEvent.StartFailed f => s with { LastError = f.Reason },
        VmEvent.StopRequested r => s with
        {
            Phase = VmPhase.Stopping, StopMode = r.Mode, Then = r.Then, Op = r.Op, Since = r.At,
            Desired = r.Then == AfterStop.Start ? s.Desired : PowerState.Stopped,
        },
        VmEvent.StopEscalated x => s with { StopMode = StopMode.Force, Op = x.Op },
        VmEvent.Stopped st => s with { Phase = VmPhase.Stopped, Node = null, Since = st.At, Then = AfterStop.Nothing },
        VmEvent.StoppedUnexpectedly u => s with { Phase = VmPhase.Stopped, Node = null, Since = u.At, LastError = Describe(u.Reason) },
        VmEvent.RestartScheduled r => s with
        {
            Phase = VmPhase.Recovering, Op = r.Op, RetryDelay = r.Delay, Since = r.At, Desired = PowerState.Running, Node = null,
            Restarts = [.. Window(s, r.At), r.At], FailureReasons = [.. s.FailureReasons.TakeLast(KeptReasons - 1), r.Reason],
        },
        VmEvent.Failed f => s with { Phase = VmPhase.Failed, FailureReasons = f.Reasons, Node = null, Since = f.At },
        VmEvent.FailuresCleared c => s with
        {
            Phase = s.Phase == VmPhase.Failed ? VmPhase.Stopped : s.Phase, Restarts = [], FailureReasons = [], LastError = null,
            Since = s.Phase == VmPhase.Failed ? c.At : s.Since,
        },
        VmEvent.DesiredChanged d => s with
        {
            LastError = s.Phase is VmPhase.Recovering && d.Desired == PowerState.Stopped ? d.Why : s.LastError,
            Desired = d.Desired, Then = d.Desired == PowerState.Stopped && s.Then == AfterStop.Start ? AfterStop.Nothing : s.Then,
            Phase = s.Phase is VmPhase.Recovering or VmPhase.Placing && d.Desired == PowerState.Stopped ? VmPhase.Stopped : s.Phase,
        },
        VmEvent.Deleted d => s with { Phase = VmPhase.Deleted, Desired = PowerState.Stopped, Node = null, Since = d.At },
        VmEvent.HostLost l when s.Desired == PowerState.Stopped || s.Phase == VmPhase.Stopping => s with
        {
            Phase = VmPhase.Stopped, Node = null, LastNode = l.Node, AwaitingFence = l.Node, AwaitingIncarnation = l.Incarnation, Since = l.At, LastError = l.Reason, Then = AfterStop.Nothing,
        },
        VmEvent.HostLost l => s with
        {
            Phase = VmPhase.Recovering, Node = null, LastNode = l.Node, AwaitingFence = l.Node, AwaitingIncarnation = l.Incarnation, Since = l.At, LastError = l.Reason, Desired = PowerState.Running,
        },
        VmEvent.HostFenced f => s with { AwaitingFence = null, AwaitingIncarnation = 0, LastError = $"host {f.Node} fenced: {f.Evidence}" },
        VmEvent.FencePending p => s with { LastError = p.Reason },
        _ => s,
    };

    /// <summary>A new run: ready at once when its spec has no readiness check, else waiting for the guest.</summary>
    private static VmState RunningSince(VmState s, DateTimeOffset at) => s.Spec!.ReadyCheck.Kind == ReadinessKind.None
        ? s with { ReadySince = at, ReadyEvidence = "no readiness check: running counts as ready", ReadyOverdue = false }
        : s with { ReadySince = null, ReadyEvidence = null, ReadyOverdue = false };

    /// <summary>How long the run may wait for its guest's ready signal.</summary>
    private TimeSpan ReadyTimeout(VmState s) => s.Spec?.ReadyCheck.Timeout ?? defaults.ReadyTimeout;

    private static string NotReady(ReadinessSpec check, TimeSpan timeout) =>
        $"not ready within {Seconds(timeout)} of its start: " + check.Kind switch
        {
            ReadinessKind.VirtioSignal => $"the guest sent no 'ready' line on its {ReadinessSpec.ChannelName} port",
            ReadinessKind.GuestAgent => "qemu-guest-agent in the guest did not answer guest-ping",
            _ => $"nothing accepted a connection on {check.Tcp}",
        };

    public StateTimeout<VmCommand>? TimeoutFor(VmState s) => s.Phase switch
    {
        VmPhase.Running when s.AwaitingReady && !s.ReadyOverdue =>
            new StateTimeout<VmCommand>($"ready-{s.Op}-{s.Since.UtcTicks}", ReadyTimeout(s), new VmCommand.ReadyTimedOut(s.Op)),
        VmPhase.Starting => new StateTimeout<VmCommand>($"start-{s.Op}", defaults.StartTimeout, new VmCommand.StartTimedOut(s.Op)),
        VmPhase.Stopping when s.StopMode == StopMode.Graceful =>
            new StateTimeout<VmCommand>($"stop-{s.Op}", s.Spec?.StopTimeout ?? defaults.StopTimeout, new VmCommand.StopTimedOut(s.Op)),
        VmPhase.Recovering when s.AwaitingFence is null => new StateTimeout<VmCommand>($"retry-{s.Op}-{s.Since.UtcTicks}", s.RetryDelay, new VmCommand.RetryStart(s.Op)),
        _ => null,
    };

    /// <summary>
    /// After an unexpected stop or failed start, the restart policy decides: give up to Stopped (never, or a clean
    /// shutdown under on-failure), Failed (too many restarts in the window), or a restart after a backoff.
    /// </summary>
    private Decision<VmEvent> AfterFailure(VmState s, VmEvent first, string reason, bool failure, DateTimeOffset now)
    {
        var spec = s.Spec!;
        var stamped = Stamp(reason, now);
        if (spec.Restart == RestartPolicy.Never || (spec.Restart == RestartPolicy.OnFailure && !failure))
        {
            var why = $"{reason}; restart policy {Lower(spec.Restart)} leaves it stopped";
            return first is VmEvent.StartFailed
                ? Accept(first, new VmEvent.Failed([.. s.FailureReasons.TakeLast(KeptReasons - 1), stamped], now), new VmEvent.DesiredChanged(PowerState.Stopped, why, now))
                : Accept(first, new VmEvent.DesiredChanged(PowerState.Stopped, why, now));
        }

        var max = spec.MaxRestarts ?? defaults.MaxRestarts;
        var recent = Window(s, now).Count();
        if (recent + 1 > max)
        {
            var window = spec.RestartWindow ?? defaults.RestartWindow;
            var reasons = s.FailureReasons.Concat([stamped, $"gave up: the {max} restart(s) allowed within {Seconds(window)} were used"]).TakeLast(KeptReasons).ToList();
            return Accept(first, new VmEvent.Failed(reasons, now));
        }

        return Accept(first, new VmEvent.RestartScheduled(s.Op + 1, recent + 1, Backoff(recent + 1), stamped, now));
    }

    private Decision<VmEvent> FinishStop(VmState s, DateTimeOffset now) => s.Then switch
    {
        AfterStop.Start => Accept(new VmEvent.Stopped(now), Place(s.Op + 1, "restart requested", now)),
        AfterStop.Delete => Accept(new VmEvent.Stopped(now), new VmEvent.Deleted(now)),
        _ => Accept(new VmEvent.Stopped(now)),
    };

    /// <summary>Brings the journal's view and libvirt's together, after a restart of virt-node or of libvirt.</summary>
    private Decision<VmEvent> Reconcile(VmState s, VmCommand.Observed o, DateTimeOffset now)
    {
        var next = s.Op + 1;
        return (s.Phase, o.Running) switch
        {
            (VmPhase.Running, false) when s.Desired == PowerState.Running => Recount(s, FoundStopped(s, o), now),
            (VmPhase.Starting, true) => Accept(new VmEvent.Started(s.Op, now, o.HostBoot)),
            (VmPhase.Starting, false) => Accept(new VmEvent.StartRequested(next, s.Node ?? o.Node, "the start was interrupted; starting again", false, now)),
            (VmPhase.Stopping, false) => FinishStop(s, now),
            (VmPhase.Stopping, true) => Accept(new VmEvent.StopRequested(next, s.StopMode, s.Then, "the stop was interrupted; stopping again", now)),
            (VmPhase.Stopped, true) => Accept(new VmEvent.StopRequested(next, StopMode.Graceful, AfterStop.Nothing, "running while it should be stopped", now)),
            (VmPhase.Recovering or VmPhase.Placing, true) => Accept(new VmEvent.Adopted(o.Node, "found running", now, o.HostBoot)),
            _ => Decision<VmEvent>.Nothing,
        };
    }

    /// <summary>Why a VM that should run was found stopped: the host restarted (its boot identity changed), or it stopped while virt-node was away.</summary>
    private static string FoundStopped(VmState s, VmCommand.Observed o) =>
        s.HostBoot is not null && o.HostBoot is not null && s.HostBoot != o.HostBoot
            ? $"host {o.Node} restarted (found stopped under a new boot of the host); starting it again"
            : "found stopped when virt-node started; starting it again";

    /// <summary>A start that counts as a restart, unless the window is already spent: then Failed.</summary>
    private Decision<VmEvent> Recount(VmState s, string why, DateTimeOffset now)
    {
        var max = s.Spec!.MaxRestarts ?? defaults.MaxRestarts;
        if (Window(s, now).Count() + 1 <= max)
            return Accept(Place(s.Op + 1, why + " (counts as a restart)", now, automatic: true, countsAsRestart: true));
        var reasons = s.FailureReasons.Concat([Stamp(why, now), $"gave up: the {max} restart(s) allowed within the window were used"]).TakeLast(KeptReasons).ToList();
        return Accept(new VmEvent.Failed(reasons, now));
    }

    private static VmEvent.PlacementRequested Place(long op, string why, DateTimeOffset now, bool automatic = false, bool countsAsRestart = false, string? pin = null) =>
        new(op, why, automatic, countsAsRestart, now, pin);

    private IEnumerable<DateTimeOffset> Window(VmState s, DateTimeOffset now)
    {
        var window = s.Spec?.RestartWindow ?? defaults.RestartWindow;
        return s.Restarts.Where(t => now - t < window);
    }

    private TimeSpan Backoff(int attempt)
    {
        var ticks = defaults.RestartBackoff.Ticks * Math.Pow(2, Math.Clamp(attempt - 1, 0, 20));
        return TimeSpan.FromTicks((long)Math.Min(ticks, defaults.RestartBackoffMax.Ticks));
    }

    private static VmEvent.DesiredChanged Desire(PowerState desired, string why, DateTimeOffset now) => new(desired, why, now);

    private static string Stamp(string reason, DateTimeOffset now) => string.Create(CultureInfo.InvariantCulture, $"{now:yyyy-MM-dd HH:mm:ss}Z {reason}");

    private static string Describe(string reason) => reason switch
    {
        "shutdown" => "shut down from inside the guest",
        "destroyed" => "killed outside Virt (destroyed)",
        "crashed" => "crashed",
        "failed" => "the hypervisor process failed",
        _ => $"stopped unexpectedly ({reason})",
    };

    private static string Last(VmState s) => s.FailureReasons.Count > 0 ? s.FailureReasons[^1] : "no reason recorded";

    private static string Lower<T>(T value)
        where T : struct, Enum => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    private static string Seconds(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.###} s");

    private static Decision<VmEvent> Accept(params VmEvent[] events) => Decision<VmEvent>.Accept(events);

    private static Decision<VmEvent> Reject(string reason) => Decision<VmEvent>.Reject(reason);
}
