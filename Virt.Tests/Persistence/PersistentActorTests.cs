using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;
using Virt.Actors.Runtime;
using Virt.Tests.Support;

namespace Virt.Tests.Persistence;

public sealed class PersistentActorTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private ActorSystem _system = null!;
    private SqliteDatabase _db = null!;
    private SqliteJournal _sqlite = null!;
    private GatedJournal _journal = null!;
    private SqliteSnapshotStore _snapshots = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("persist");
        _db = new SqliteDatabase(new SqlitePersistenceOptions { Path = _dir.File("j.db") });
        _sqlite = new SqliteJournal(_db, TestSerializer.Create());
        _journal = new GatedJournal(_sqlite);
        _snapshots = new SqliteSnapshotStore(_db, TestSerializer.Create());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.TerminateAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await _sqlite.DisposeAsync();
        _db.Dispose();
        _dir.Dispose();
    }

    /// <summary>Adds numbers; tells the probe about side effects, recovery and snapshots.</summary>
    private sealed class Counter(string id, IEventJournal journal, ISnapshotStore snapshots, Probe probe, int snapshotEvery = 0) : PersistentActor(journal, snapshots)
    {
        private int _total;
        private readonly List<string> _values = [];
        private int _replayed;

        public override string PersistenceId => id;

        protected override void ReceiveRecover(object message)
        {
            switch (message)
            {
                case SnapshotOffer { Snapshot: TestSnapshot s }:
                    _total = s.Total;
                    _values.AddRange(s.Values);
                    probe.Tell($"snapshot@{s.Total}");
                    break;
                case TestEvent e:
                    _total += e.N;
                    _values.Add(e.Value);
                    _replayed++;
                    break;
                case RecoveryCompleted:
                    probe.Tell($"recovered total={_total} replayed={_replayed} seq={LastSequenceNr}");
                    break;
            }
        }

        protected override void ReceiveCommand(object message)
        {
            switch (message)
            {
                case int n:
                    Persist(new TestEvent($"+{n}", n), e =>
                    {
                        _total += e.N;
                        _values.Add(e.Value);
                        probe.Tell($"effect {e.Value}");
                        Sender.Tell(_total);
                        if (snapshotEvery > 0 && LastSequenceNr % snapshotEvery == 0)
                            SaveSnapshot(new TestSnapshot(_total, [.. _values]));
                    });
                    break;
                case "get":
                    Sender.Tell(_total);
                    break;
                case SaveSnapshotSuccess s:
                    probe.Tell($"snapshot saved {s.Metadata.SequenceNr}");
                    break;
            }
        }

        protected override void OnPersistFailure(Exception cause, object @event) =>
            Sender.Tell(new StatusFailure(cause));
    }

    private IActorRef Start(string id, Probe probe, int snapshotEvery = 0, string? name = null) =>
        _system.ActorOf(Props.Create(() => new Counter(id, _journal, _snapshots, probe, snapshotEvery)), name);

    private static Task WaitUntil(Func<bool> condition, string what) => Eventually.Until(condition, what, 10);

    [Fact]
    public async Task State_is_recovered_from_the_journal_and_side_effects_are_not_replayed()
    {
        var probe = new Probe();
        var first = Start("c-1", probe);
        await probe.Expect("recovered total=0 replayed=0 seq=0");
        Assert.Equal(5, await first.Ask<int>(5, TimeSpan.FromSeconds(10)));
        Assert.Equal(12, await first.Ask<int>(7, TimeSpan.FromSeconds(10)));
        await probe.Expect("effect +5");
        await probe.Expect("effect +7");
        Assert.True(await _system.GracefulStop(first, TimeSpan.FromSeconds(5)));

        var second = Start("c-1", probe);
        await probe.Expect("recovered total=12 replayed=2 seq=2");
        Assert.Equal(12, await second.Ask<int>("get", TimeSpan.FromSeconds(10)));
        probe.ExpectNothingQueued(); // no "effect" during replay
    }

    [Fact]
    public async Task Commands_arriving_during_recovery_wait_until_it_completes()
    {
        await _sqlite.AppendAsync("c-2", 0, [new EventToWrite(new TestEvent("+3", 3))]);
        var probe = new Probe();
        _journal.HoldReplays();
        var actor = (ActorCell)Start("c-2", probe);
        var reply = actor.Ask<int>("get", TimeSpan.FromSeconds(10));
        await WaitUntil(() => actor.MailboxDepth == 0, "the actor took the command");
        Assert.False(reply.IsCompleted);

        _journal.ReleaseReplays();
        await probe.Expect("recovered total=3 replayed=1 seq=1");
        Assert.Equal(3, await reply); // answered from the recovered state, not the empty one
    }

    [Fact]
    public async Task Commands_wait_while_a_write_is_in_flight_and_replies_come_after_storage()
    {
        var probe = new Probe();
        var actor = (ActorCell)Start("c-3", probe);
        await probe.Expect("recovered total=0 replayed=0 seq=0");
        _journal.HoldAppends();
        var inc = actor.Ask<int>(4, TimeSpan.FromSeconds(10));
        var get = actor.Ask<int>("get", TimeSpan.FromSeconds(10));
        await WaitUntil(() => actor.MailboxDepth == 0 && _journal.Appends == 1, "both commands were taken and the write started");
        Assert.False(inc.IsCompleted);
        Assert.False(get.IsCompleted);
        Assert.Equal(0, await _sqlite.HighestSequenceNrAsync("c-3"));

        _journal.ReleaseAppends();
        Assert.Equal(4, await inc);
        Assert.Equal(4, await get); // handled after the write, so it sees the new state
        Assert.Equal(1, await _sqlite.HighestSequenceNrAsync("c-3"));
    }

    [Fact]
    public async Task A_failed_write_tells_the_sender_and_the_actor_restarts_from_the_journal()
    {
        var probe = new Probe();
        var actor = Start("c-4", probe);
        await probe.Expect("recovered total=0 replayed=0 seq=0");
        Assert.Equal(2, await actor.Ask<int>(2, TimeSpan.FromSeconds(10)));
        await probe.Expect("effect +2");

        _journal.FailNextAppend();
        var ex = await Assert.ThrowsAsync<IOException>(() => actor.Ask<int>(100, TimeSpan.FromSeconds(10)));
        Assert.Equal("disk on fire", ex.Message);

        await probe.Expect("recovered total=2 replayed=1 seq=1"); // restarted by supervision
        Assert.Equal(5, await actor.Ask<int>(3, TimeSpan.FromSeconds(10)));
        Assert.Equal(2, await _sqlite.HighestSequenceNrAsync("c-4"));
    }

    [Fact]
    public async Task A_second_incarnation_of_the_same_id_gets_a_conflict_and_catches_up_instead_of_interleaving()
    {
        var probe = new Probe();
        var a = Start("twin", probe, name: "a");
        var b = Start("twin", probe, name: "b");
        await probe.Expect<string>();
        await probe.Expect<string>(); // both recovered at seq 0

        Assert.Equal(1, await a.Ask<int>(1, TimeSpan.FromSeconds(10)));
        await probe.Expect("effect +1");
        await Assert.ThrowsAsync<JournalConflictException>(() => b.Ask<int>(10, TimeSpan.FromSeconds(10)));
        await probe.Expect("recovered total=1 replayed=1 seq=1"); // b restarted and read a's event
        Assert.Equal(11, await b.Ask<int>(10, TimeSpan.FromSeconds(10)));

        var stored = new List<int>();
        await foreach (var e in _sqlite.ReplayAsync("twin", 1))
            stored.Add(((TestEvent)e.Payload).N);
        Assert.Equal([1, 10], stored);
    }

    [Fact]
    public async Task Recovery_starts_from_the_latest_snapshot_and_replays_only_later_events()
    {
        var probe = new Probe();
        var actor = Start("c-5", probe, snapshotEvery: 3);
        await probe.Expect("recovered total=0 replayed=0 seq=0");
        for (var i = 1; i <= 4; i++)
            await actor.Ask<int>(i, TimeSpan.FromSeconds(10));
        await probe.WaitFor("snapshot saved 3");
        Assert.True(await _system.GracefulStop(actor, TimeSpan.FromSeconds(5)));

        var probe2 = new Probe();
        Start("c-5", probe2);
        await probe2.Expect("snapshot@6");
        await probe2.Expect("recovered total=10 replayed=1 seq=4");
    }
}
