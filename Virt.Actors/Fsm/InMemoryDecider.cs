namespace Virt.Actors.Fsm;

/// <summary>
/// Runs a decider without actors or storage: for unit tests of a state machine, and for what-if checks.
/// Keeps its own clock; <see cref="Advance"/> fires due state timeouts in order.
/// </summary>
public sealed class InMemoryDecider<TState, TCommand, TEvent>
{
    private readonly IDecider<TState, TCommand, TEvent> _decider;
    private readonly StateTimeoutTracker<TCommand> _timeout = new();
    private readonly List<TEvent> _history = [];

    public InMemoryDecider(IDecider<TState, TCommand, TEvent> decider, DateTimeOffset now, TState? initial = default)
    {
        _decider = decider;
        Now = now;
        State = initial ?? decider.Initial;
        _timeout.Update(decider.TimeoutFor(State), Now);
    }

    public TState State { get; private set; }

    public DateTimeOffset Now { get; private set; }

    public IReadOnlyList<TEvent> History => _history;

    /// <summary>When the current state's timeout fires, if it has one.</summary>
    public DateTimeOffset? TimeoutDue => _timeout.Due;

    public Decision<TEvent> Send(TCommand command)
    {
        var decision = _decider.Decide(State, command, Now);
        if (decision is Decision<TEvent>.Accepted accepted)
        {
            foreach (var e in accepted.Events)
            {
                State = _decider.Apply(State, e);
                _history.Add(e);
            }
        }

        _timeout.Update(_decider.TimeoutFor(State), Now);
        return decision;
    }

    /// <summary>Moves the clock forward, deciding each timeout command that falls due; returns their decisions.</summary>
    public IReadOnlyList<Decision<TEvent>> Advance(TimeSpan by)
    {
        var target = Now + by;
        var fired = new List<Decision<TEvent>>();
        while (_timeout is { Due: { } due, Current: { } timeout } && due <= target)
        {
            Now = due;
            _timeout.Update(null, Now);
            fired.Add(Send(timeout.Command));
        }

        Now = target;
        return fired;
    }
}
