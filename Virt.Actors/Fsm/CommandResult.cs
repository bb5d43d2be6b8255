namespace Virt.Actors.Fsm;

/// <summary>
/// The reply of a <see cref="DeciderActor{TState,TCommand,TEvent}"/> to a command, sent only after the events are
/// stored. <see cref="Reason"/> says why a refused command was refused; <see cref="State"/> is the state after.
/// </summary>
public sealed record CommandResult<TState, TEvent>(bool Accepted, string? Reason, TState State, IReadOnlyList<TEvent> Events);
