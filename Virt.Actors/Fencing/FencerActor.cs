using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Persistence;
using Virt.Actors.Cluster;

namespace Virt.Actors.Fencing;

/// <summary>Registry key of the fencer singleton's proxy.</summary>
public sealed class FencerKey;

/// <param name="LevelsFor">The levels configured for a host, in order (each does its own I/O).</param>
/// <param name="RetryInterval">When a round confirmed nothing, the next round starts this long after (sooner when a level says when).</param>
/// <param name="LevelTimeout">Limit for one level's attempt, over the level's own limits: a level that hangs must not stop the fencer.</param>
public sealed record FencerSettings(Func<string, IReadOnlyList<IFenceLevel>> LevelsFor, TimeSpan RetryInterval, TimeSpan LevelTimeout);

/// <summary>
/// The fencer (a cluster singleton, on the etcd lease when etcd is configured). When a host is downed it fences it
/// by the host's levels in order until one confirms, and stores the fence against the host's incarnation with the
/// evidence; until then nothing of that host starts elsewhere. The balancer asks it about every host some VM waits
/// for (<see cref="FencerProtocol.EnsureFenced"/>), which also covers a downing this fencer did not see (it took
/// over after the host was removed). Which level next and what a round means is <see cref="FencingPlan"/>'s.
/// </summary>
internal sealed class FencerActor : ReceivePersistentActor, IWithTimers
{
    private const int KeptRecords = 200;

    private readonly FencerSettings _settings;
    private readonly IActorRef _balancer;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<FenceRecord> _records = [];
    private readonly Dictionary<string, (long Incarnation, TimeSpan? Watchdog)> _seen = new(StringComparer.Ordinal);
    private readonly HashSet<(string Host, long Incarnation)> _running = [];

    public FencerActor(FencerSettings settings, IActorRef balancer)
    {
        _settings = settings;
        _balancer = balancer;

        Recover<FenceEvent>(Apply);
        Recover<RecoveryCompleted>(_ =>
        {
            foreach (var record in _records.Where(r => r.Confirmed is null).ToList())
                StartRound(record);
        });

        Command<ClusterEvent.MemberDowned>(downed => OnDown(downed.Member, "downed"));
        Command<ClusterEvent.MemberRemoved>(removed =>
        {
            if (removed.PreviousStatus == MemberStatus.Down)
                OnDown(removed.Member, "downed and removed");
        });
        Command<ClusterEvent.IMemberEvent>(_ => { });
        Command<FencerProtocol.HostSeen>(seen =>
        {
            var watchdogMs = seen.Watchdog is { } w ? (long)w.TotalMilliseconds : (long?)null;
            if (_seen.TryGetValue(seen.Host, out var known) && known.Incarnation == seen.Incarnation && known.Watchdog == seen.Watchdog)
                return;
            Persist(new FenceEvent.HostSeen(seen.Host, seen.Incarnation, watchdogMs, Now), Apply);
        });
        Command<FencerProtocol.EnsureFenced>(ensure =>
        {
            var replyTo = Sender;
            Ensure(ensure.Host, ensure.Incarnation, ensure.Why, record => replyTo.Tell(Status(record)), refused => replyTo.Tell(new FencerProtocol.FenceStatus(ensure.Host, ensure.Incarnation, false, refused)));
        });
        Command<FencerProtocol.GetFences>(_ => Sender.Tell(new FencerProtocol.Fences(
            _records.OrderByDescending(r => r.RequestedAt).ToList(),
            _seen.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new FencerProtocol.HostSeen(s.Key, s.Value.Incarnation, s.Value.Watchdog)).ToList())));
        Command<FencerProtocol.FenceNow>(FenceNow);
        Command<FencerProtocol.ConfirmFenced>(Confirm);
        Command<RoundDone>(OnRoundDone);
        Command<Retry>(retry =>
        {
            if (Find(retry.Host, retry.Incarnation) is { Confirmed: null } record)
                StartRound(record);
        });
    }

    public override string PersistenceId => "fencer";

    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private Akka.Cluster.Cluster Cluster => Akka.Cluster.Cluster.Get(Context.System);

    public static Props Props(FencerSettings settings, IActorRef balancer) => Akka.Actor.Props.Create(() => new FencerActor(settings, balancer));

    protected override void PreStart()
    {
        base.PreStart();
        Cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
    }

    protected override void PostStop()
    {
        Cluster.Unsubscribe(Self);
        base.PostStop();
    }

    private void Apply(FenceEvent e)
    {
        switch (e)
        {
            case FenceEvent.Requested r:
                _records.Add(new FenceRecord(r.Host, r.Incarnation, r.MembershipEnded, r.Why, r.At));
                if (_records.Count > KeptRecords)
                    _records.Remove(_records.Where(x => x.Confirmed is not null).OrderBy(x => x.RequestedAt).FirstOrDefault() ?? _records[0]);
                break;
            case FenceEvent.Confirmed c:
                Replace(c.Host, c.Incarnation, r => r with { Confirmed = new FenceConfirmation(c.Level, c.Evidence, c.At), LastFailure = null });
                break;
            case FenceEvent.HostSeen s:
                _seen[s.Host] = (s.Incarnation, s.WatchdogMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null);
                break;
        }
    }

    private FenceRecord? Find(string host, long incarnation) => _records.LastOrDefault(r => r.Host == host && r.Incarnation == incarnation);

    private void Replace(string host, long incarnation, Func<FenceRecord, FenceRecord> change)
    {
        var index = _records.FindLastIndex(r => r.Host == host && r.Incarnation == incarnation);
        if (index >= 0)
            _records[index] = change(_records[index]);
    }

    private static FencerProtocol.FenceStatus Status(FenceRecord record) => record.Confirmed is { } c
        ? new FencerProtocol.FenceStatus(record.Host, record.Incarnation, true, $"{c.Level}: {c.Evidence}")
        : new FencerProtocol.FenceStatus(record.Host, record.Incarnation, false, record.LastFailure ?? (record.Rounds == 0 ? "the fence is under way" : "no level confirmed it yet"));

    private Member? MemberNamed(string host) =>
        NodeRole.Find(Cluster.State.Members.Where(m => m.Status is not (MemberStatus.Down or MemberStatus.Removed or MemberStatus.Exiting)), host);

    private void OnDown(Member member, string how)
    {
        if (NodeRole.NameIn(member.Roles) is not { } host || member.UniqueAddress.Equals(Cluster.SelfUniqueAddress))
            return;
        Ensure(host, member.UniqueAddress.Uid, how, _ => { }, _ => { });
    }

    /// <summary>
    /// The record for the host's incarnation (0: the latest it reported), asked for now if there is none. A host that
    /// is a member right now is never fenced this way: it runs, and downing it is the resolver's (or the operator's) call.
    /// </summary>
    private void Ensure(string host, long incarnation, string why, Action<FenceRecord> then, Action<string> refused)
    {
        var latest = _seen.TryGetValue(host, out var seen) ? seen.Incarnation : 0;
        if (FencingPlan.For(_records, host, incarnation, latest) is { } existing)
        {
            then(existing);
            return;
        }

        var wanted = incarnation != 0 ? incarnation : latest;
        if (MemberNamed(host) is { } member && (wanted == 0 || member.UniqueAddress.Uid == wanted))
        {
            refused($"{host} is a member of the cluster (incarnation {member.UniqueAddress.Uid}, {member.Status.ToString().ToLowerInvariant()}): it is not fenced while it is one");
            return;
        }

        Persist(new FenceEvent.Requested(host, wanted, Now, why, Now), e =>
        {
            Apply(e);
            _log.Warning("fencing {0} (incarnation {1}, {2}) by {3}", host, wanted, why, Describe(host));
            var record = Find(host, wanted)!;
            StartRound(record);
            then(record);
        });
    }

    private string Describe(string host)
    {
        var levels = _settings.LevelsFor(host);
        return levels.Count == 0 ? "no level (waiting for the operator)" : string.Join(", then ", levels.Select(l => l.Name));
    }

    private void StartRound(FenceRecord record)
    {
        if (record.Incarnation != 0 && MemberNamed(record.Host) is { } back && back.UniqueAddress.Uid != record.Incarnation)
        {
            // Back as a new incarnation before it was fenced: powering it off now would hit a healthy member. Its libvirt,
            // which the lost incarnation's domains ran under, now says for each waiting VM whether it still runs there.
            Replace(record.Host, record.Incarnation, r => r with { LastFailure = $"{record.Host} is back as incarnation {back.UniqueAddress.Uid}: not fenced; its libvirt answers for the VMs that waited" });
            _log.Warning("{0} is back as incarnation {1} before incarnation {2} was fenced: no fence", record.Host, back.UniqueAddress.Uid, record.Incarnation);
            return;
        }

        if (!_running.Add((record.Host, record.Incarnation)))
            return;
        var levels = _settings.LevelsFor(record.Host);
        var names = levels.Select(l => l.Name).ToList();
        var watchdog = _seen.TryGetValue(record.Host, out var seen) && (record.Incarnation == 0 || seen.Incarnation == record.Incarnation) ? seen.Watchdog : null;
        var target = new FenceTarget(record.Host, record.Incarnation, record.MembershipEnded, watchdog);
        var timeout = _settings.LevelTimeout;
        Replace(record.Host, record.Incarnation, r => r with { LastAttempt = Now });
        RunRound(levels, names, target, timeout).PipeTo(Self);
    }

    private static async Task<RoundDone> RunRound(IReadOnlyList<IFenceLevel> levels, IReadOnlyList<string> names, FenceTarget target, TimeSpan timeout)
    {
        var tried = new List<(string Level, FenceOutcome Outcome)>();
        while (FencingPlan.NextLevel(names, tried) is { } next)
        {
            var level = levels.First(l => l.Name == next);
            FenceOutcome outcome;
            try
            {
                using var cancel = new CancellationTokenSource(timeout);
                outcome = await level.Fence(target, cancel.Token).WaitAsync(timeout + TimeSpan.FromSeconds(1));
            }
            catch (Exception ex)
            {
                // A level reports its failures as outcomes; anything thrown is a fault of the level, and not a fence.
                outcome = FenceOutcome.NotDone($"the {next} level failed: {ex.GetBaseException().Message}");
            }

            tried.Add((next, outcome));
        }

        return new RoundDone(target.Host, target.Incarnation, names, tried);
    }

    private void OnRoundDone(RoundDone done)
    {
        _running.Remove((done.Host, done.Incarnation));
        if (Find(done.Host, done.Incarnation) is not { } record || record.Confirmed is not null)
            return;
        var result = FencingPlan.Conclude(done.Host, done.Levels, done.Tried, _settings.RetryInterval);
        if (result.Confirmed)
        {
            Persist(new FenceEvent.Confirmed(done.Host, done.Incarnation, result.Level!, result.Text, Now), e =>
            {
                Apply(e);
                _log.Warning("fenced {0} (incarnation {1}) by {2}: {3}", done.Host, done.Incarnation, result.Level, result.Text);
                _balancer.Tell(Status(Find(done.Host, done.Incarnation)!));
            });
            return;
        }

        Replace(done.Host, done.Incarnation, r => r with { Rounds = r.Rounds + 1, LastFailure = result.Text });
        _log.Warning("{0} (incarnation {1}) is not fenced yet: {2}; trying again in {3:0.#} s", done.Host, done.Incarnation, result.Text, result.RetryIn!.Value.TotalSeconds);
        _balancer.Tell(Status(Find(done.Host, done.Incarnation)!));
        Timers.StartSingleTimer($"retry-{done.Host}-{done.Incarnation}", new Retry(done.Host, done.Incarnation), result.RetryIn!.Value);
    }

    private void FenceNow(FencerProtocol.FenceNow fence)
    {
        if (MemberNamed(fence.Host) is { } member)
        {
            if (member.UniqueAddress.Equals(Cluster.SelfUniqueAddress))
            {
                Sender.Tell(new FencerProtocol.Answer(false, $"{fence.Host} runs the fencer now; fence it from another node's fencer by downing it first ('virt cluster down {fence.Host}' on another node)", true));
                return;
            }

            Cluster.Down(member.Address);
            Sender.Tell(new FencerProtocol.Answer(true, $"{fence.Host} (incarnation {member.UniqueAddress.Uid}) is marked down; it is fenced next by {Describe(fence.Host)} ('virt fence list' shows how it went)"));
            return;
        }

        if (!Known(fence.Host))
        {
            Sender.Tell(new FencerProtocol.Answer(false, $"no host named '{fence.Host}' is known here: it is not a member and never reported; check the name ('virt node list')"));
            return;
        }

        var replyTo = Sender;
        Ensure(fence.Host, 0, "fenced by the operator", record =>
        {
            if (record.Confirmed is null)
                StartRound(record);
            replyTo.Tell(new FencerProtocol.Answer(true, record.Confirmed is { } c
                ? $"{fence.Host} (incarnation {record.Incarnation}) is already fenced: {c.Level}: {c.Evidence}"
                : $"fencing {fence.Host} (incarnation {record.Incarnation}) by {Describe(fence.Host)}; 'virt fence list' shows how it goes"));
        }, refused => replyTo.Tell(new FencerProtocol.Answer(false, refused, true)));
    }

    private bool Known(string host) => _seen.ContainsKey(host) || _records.Any(r => r.Host == host);

    private void Confirm(FencerProtocol.ConfirmFenced confirm)
    {
        var host = confirm.Host;
        if (MemberNamed(host) is { } member)
        {
            Sender.Tell(new FencerProtocol.Answer(false, $"{host} is a member of the cluster (incarnation {member.UniqueAddress.Uid}, {member.Status.ToString().ToLowerInvariant()}), so it may well run its VMs: down it first ('virt cluster down {host}') or fence it ('virt node fence {host}')", true));
            return;
        }

        if (!Known(host))
        {
            Sender.Tell(new FencerProtocol.Answer(false, $"no host named '{host}' is known here: it is not a member and never reported; check the name ('virt node list')"));
            return;
        }

        var latest = _seen.TryGetValue(host, out var seen) ? seen.Incarnation : 0;
        var pending = _records.Where(r => r.Host == host && r.Confirmed is null).ToList();
        var events = new List<FenceEvent>();
        if (pending.Count == 0 && FencingPlan.For(_records, host, 0, latest) is not { Confirmed: not null })
            events.Add(new FenceEvent.Requested(host, latest, Now, "confirmed by the operator", Now));
        var incarnations = pending.Select(p => p.Incarnation).DefaultIfEmpty(latest).Distinct().ToList();
        if (pending.Count == 0 && events.Count == 0)
        {
            Sender.Tell(new FencerProtocol.Answer(true, $"{host} is already fenced; nothing to confirm"));
            return;
        }

        events.AddRange(incarnations.Select(i => new FenceEvent.Confirmed(host, i, "operator", "confirmed by the operator with 'virt node confirm-fenced'", Now)));
        var replyTo = Sender;
        PersistAll(events, Apply);
        DeferAsync(events.Count, _ =>
        {
            _log.Warning("{0} confirmed fenced by the operator (incarnations {1}): its VMs may start elsewhere now", host, string.Join(", ", incarnations));
            foreach (var i in incarnations)
                _balancer.Tell(Status(Find(host, i)!));
            replyTo.Tell(new FencerProtocol.Answer(true,
                $"recorded: {host} is fenced on your word, and its VMs start elsewhere now. If it still runs any of them, they now run twice: make sure it is off"));
        });
    }

    private sealed record RoundDone(string Host, long Incarnation, IReadOnlyList<string> Levels, IReadOnlyList<(string Level, FenceOutcome Outcome)> Tried);

    private sealed record Retry(string Host, long Incarnation);
}
