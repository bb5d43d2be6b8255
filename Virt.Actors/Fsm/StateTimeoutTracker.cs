namespace Virt.Actors.Fsm;

/// <summary>The one rule for state timeouts, shared by <see cref="InMemoryDecider{TState,TCommand,TEvent}"/> and <see cref="DeciderActor{TState,TCommand,TEvent}"/>.</summary>
public sealed class StateTimeoutTracker<TCommand>
{
    public StateTimeout<TCommand>? Current { get; private set; }

    public DateTimeOffset? Due { get; private set; }

    /// <summary>Returns true when the timer must be (re)armed for <see cref="Current"/>; false when unchanged or cancelled.</summary>
    public bool Update(StateTimeout<TCommand>? next, DateTimeOffset now)
    {
        if (next is null)
        {
            Current = null;
            Due = null;
            return false;
        }

        if (Current is not null && Current.Key == next.Key)
            return false;
        Current = next;
        Due = now + next.After;
        return true;
    }

    /// <summary>True when a timer that fired for <paramref name="key"/> still belongs to the current state.</summary>
    public bool IsCurrent(string key) => Current?.Key == key;
}
