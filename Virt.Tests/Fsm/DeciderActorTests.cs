using Virt.Actors.Fsm;
using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;
using Virt.Actors.Runtime;
using Virt.Tests.Support;

namespace Virt.Tests.Fsm;

public sealed class DeciderActorTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly ManualTimeProvider _time = new();
    private readonly EventSerializer _serializer = new EventSerializer()
        .Register<DoorEvent.Opened>("door.opened.v1")
        .Register<DoorEvent.Closed>("door.closed.v1")
        .Register<DoorEvent.Locked>("door.locked.v1")
        .Register<DoorEvent.Unlocked>("door.unlocked.v1");

    private ActorSystem _system = null!;
    private SqliteJournal _journal = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("door", new ActorSystemOptions { Time = _time });
        _journal = SqliteJournal.Open(_dir.File("j.db"), _serializer, _time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.TerminateAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await _journal.DisposeAsync();
        _dir.Dispose();
    }

    private sealed class DoorActor(string id, IEventJournal journal, Probe probe)
        : DeciderActor<DoorState, DoorCommand, DoorEvent>(new DoorDecider(), journal)
    {
        public override string PersistenceId => id;

        protected override void OnPersisted(DoorState before, DoorState after, IReadOnlyList<DoorEvent> events) =>
            probe.Tell($"{before.Name} => {after.Name}");

        protected override void OnRecovered() => probe.Tell($"recovered {State.Name}");
    }

    private IActorRef Start(Probe probe) => _system.ActorOf(Props.Create(() => new DoorActor("door-1", _journal, probe)));

    [Fact]
    public async Task A_command_is_answered_after_its_events_are_stored_and_a_refusal_carries_the_reason()
    {
        var probe = new Probe();
        var door = Start(probe);
        await probe.Expect("recovered closed");

        var opened = await door.Ask<CommandResult<DoorState, DoorEvent>>(new DoorCommand.Open(), TimeSpan.FromSeconds(10));
        Assert.True(opened.Accepted);
        Assert.Equal("open", opened.State.Name);
        Assert.Equal(1, await _journal.HighestSequenceNrAsync("door-1")); // stored before the reply
        await probe.Expect("closed => open");

        var refused = await door.Ask<CommandResult<DoorState, DoorEvent>>(new DoorCommand.Unlock(), TimeSpan.FromSeconds(10));
        Assert.False(refused.Accepted);
        Assert.Equal("cannot unlock a open door", refused.Reason);
        Assert.Equal(1, await _journal.HighestSequenceNrAsync("door-1"));
    }

    [Fact]
    public async Task The_state_timeout_runs_on_the_actor_clock_and_survives_as_state_after_restart()
    {
        var probe = new Probe();
        var door = Start(probe);
        await probe.Expect("recovered closed");
        await door.Ask<CommandResult<DoorState, DoorEvent>>(new DoorCommand.Open(), TimeSpan.FromSeconds(10));
        await probe.Expect("closed => open");

        _time.Advance(DoorDecider.AutoClose - TimeSpan.FromMilliseconds(1));
        var still = await door.Ask<CommandResult<DoorState, DoorEvent>>(new DoorCommand.Open(), TimeSpan.FromSeconds(10));
        Assert.Equal("open", still.State.Name);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await probe.Expect("open => closed");
        Assert.Equal(2, await _journal.HighestSequenceNrAsync("door-1"));

        Assert.True(await _system.GracefulStop(door, TimeSpan.FromSeconds(5)));
        var again = new Probe();
        Start(again);
        await again.Expect("recovered closed");
        again.ExpectNothingQueued(); // no side effect re-run on replay
    }
}
