using Virt.Actors.Fsm;

namespace Virt.Tests.Fsm;

public sealed class InMemoryDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static InMemoryDecider<DoorState, DoorCommand, DoorEvent> Door() => new(new DoorDecider(), T0);

    [Fact]
    public void Accepted_commands_apply_their_events_and_rejections_say_why_and_change_nothing()
    {
        var door = Door();
        Assert.IsType<Decision<DoorEvent>.Accepted>(door.Send(new DoorCommand.Lock()));
        var rejected = Assert.IsType<Decision<DoorEvent>.Rejected>(door.Send(new DoorCommand.Open()));
        Assert.Equal("cannot open a locked door", rejected.Reason);
        Assert.Equal("locked", door.State.Name);
        Assert.Single(door.History);
    }

    [Fact]
    public void A_state_timeout_fires_at_its_due_time_and_not_a_tick_before()
    {
        var door = Door();
        door.Send(new DoorCommand.Open());
        Assert.Equal(T0 + DoorDecider.AutoClose, door.TimeoutDue);

        Assert.Empty(door.Advance(DoorDecider.AutoClose - TimeSpan.FromTicks(1)));
        Assert.Equal("open", door.State.Name);

        var fired = Assert.Single(door.Advance(TimeSpan.FromTicks(1)));
        Assert.Equal(new DoorEvent.Closed(true), Assert.Single(((Decision<DoorEvent>.Accepted)fired).Events));
        Assert.Equal("closed", door.State.Name);
        Assert.Null(door.TimeoutDue);
    }

    [Fact]
    public void Leaving_the_state_cancels_its_timeout()
    {
        var door = Door();
        door.Send(new DoorCommand.Open());
        door.Advance(TimeSpan.FromSeconds(10));
        door.Send(new DoorCommand.Close());
        Assert.Null(door.TimeoutDue);
        Assert.Empty(door.Advance(TimeSpan.FromMinutes(5)));
        Assert.Equal(new DoorEvent.Closed(false), door.History[^1]);
    }

    [Fact]
    public void Staying_in_the_same_state_keeps_the_timer_and_a_new_occurrence_restarts_it()
    {
        var door = Door();
        door.Send(new DoorCommand.Open());
        door.Advance(TimeSpan.FromSeconds(20));
        door.Send(new DoorCommand.Open()); // already open: same key, timer unchanged
        Assert.Equal(T0 + DoorDecider.AutoClose, door.TimeoutDue);

        door.Advance(TimeSpan.FromSeconds(10)); // closes at 30 s
        door.Send(new DoorCommand.Open()); // a new opening: due 30 s from now
        Assert.Equal(T0 + TimeSpan.FromSeconds(60), door.TimeoutDue);
    }
}
