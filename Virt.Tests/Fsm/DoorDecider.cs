using Virt.Actors.Fsm;

namespace Virt.Tests.Fsm;

/// <summary>A small state machine for testing the decider helper: an open door closes itself after 30 s.</summary>
public sealed class DoorDecider : IDecider<DoorState, DoorCommand, DoorEvent>
{
    public static readonly TimeSpan AutoClose = TimeSpan.FromSeconds(30);

    public DoorState Initial => new("closed", 0);

    public Decision<DoorEvent> Decide(DoorState state, DoorCommand command, DateTimeOffset now) => (state.Name, command) switch
    {
        ("closed", DoorCommand.Open) => Decision<DoorEvent>.Accept(new DoorEvent.Opened(now)),
        ("open", DoorCommand.Open) => Decision<DoorEvent>.Nothing,
        ("open", DoorCommand.Close or DoorCommand.AutoClose) => Decision<DoorEvent>.Accept(new DoorEvent.Closed(command is DoorCommand.AutoClose)),
        ("closed", DoorCommand.Close) => Decision<DoorEvent>.Nothing,
        ("closed", DoorCommand.Lock) => Decision<DoorEvent>.Accept(new DoorEvent.Locked()),
        ("locked", DoorCommand.Unlock) => Decision<DoorEvent>.Accept(new DoorEvent.Unlocked()),
        (_, DoorCommand.AutoClose) => Decision<DoorEvent>.Nothing,
        var (s, c) => Decision<DoorEvent>.Reject($"cannot {c.GetType().Name.ToLowerInvariant()} a {s} door"),
    };

    public DoorState Apply(DoorState state, DoorEvent e) => e switch
    {
        DoorEvent.Opened => state with { Name = "open", Openings = state.Openings + 1 },
        DoorEvent.Closed => state with { Name = "closed" },
        DoorEvent.Locked => state with { Name = "locked" },
        DoorEvent.Unlocked => state with { Name = "closed" },
        _ => state,
    };

    // The key includes the opening count, so re-opening restarts the timer.
    public StateTimeout<DoorCommand>? TimeoutFor(DoorState state) =>
        state.Name == "open" ? new StateTimeout<DoorCommand>($"open-{state.Openings}", AutoClose, new DoorCommand.AutoClose()) : null;
}

public sealed record DoorState(string Name, int Openings);

public abstract record DoorCommand
{
    public sealed record Open : DoorCommand;

    public sealed record Close : DoorCommand;

    public sealed record Lock : DoorCommand;

    public sealed record Unlock : DoorCommand;

    public sealed record AutoClose : DoorCommand;
}

public abstract record DoorEvent
{
    public sealed record Opened(DateTimeOffset At) : DoorEvent;

    public sealed record Closed(bool Automatically) : DoorEvent;

    public sealed record Locked : DoorEvent;

    public sealed record Unlocked : DoorEvent;
}
