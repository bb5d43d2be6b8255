namespace Virt.Actors.Fsm;

/// <summary>
/// A state machine as plain functions: <see cref="Decide"/> turns a command into events (or a rejection),
/// <see cref="Apply"/> folds an event into the state. No I/O, no clock of its own: time is an argument.
/// </summary>
public interface IDecider<TState, TCommand, TEvent>
{
    TState Initial { get; }

    Decision<TEvent> Decide(TState state, TCommand command, DateTimeOffset now);

    TState Apply(TState state, TEvent @event);

    /// <summary>
    /// The timeout of <paramref name="state"/>, if it has one: after <see cref="StateTimeout{TCommand}.After"/> in a
    /// state with the same <see cref="StateTimeout{TCommand}.Key"/>, its command is decided. A state with another
    /// key (or none) cancels it.
    /// </summary>
    StateTimeout<TCommand>? TimeoutFor(TState state);
}

/// <param name="Key">Identifies the state occurrence; the timer restarts only when the key changes.</param>
public sealed record StateTimeout<TCommand>(string Key, TimeSpan After, TCommand Command);
