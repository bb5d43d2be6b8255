namespace Virt.Actors.Fsm;

/// <summary>What a decider answers to a command: the events that follow from it, or why it is refused.</summary>
public abstract record Decision<TEvent>
{
    private Decision()
    {
    }

    public sealed record Accepted(IReadOnlyList<TEvent> Events) : Decision<TEvent>;

    public sealed record Rejected(string Reason) : Decision<TEvent>;

    public static Decision<TEvent> Accept(params TEvent[] events) => new Accepted(events);

    public static Decision<TEvent> Reject(string reason) => new Rejected(reason);

    /// <summary>Accepted with nothing to do (the command is already satisfied).</summary>
    public static Decision<TEvent> Nothing { get; } = new Accepted([]);
}
