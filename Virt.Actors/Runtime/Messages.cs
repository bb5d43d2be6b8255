namespace Virt.Actors.Runtime;

/// <summary>Stops the receiving actor after the messages queued before it.</summary>
public sealed class PoisonPill
{
    public static readonly PoisonPill Instance = new();

    private PoisonPill()
    {
    }
}

/// <summary>Delivered to watchers after the watched actor has stopped (see <see cref="IActorContext.Watch"/>).</summary>
public sealed record Terminated(IActorRef Actor);

/// <summary>Told to a parent when supervision gave up on a child and stopped it.</summary>
public sealed record ChildFailed(IActorRef Child, Exception Cause, int Failures);

/// <summary>A failure reply; <see cref="AskExtensions.Ask{T}"/> rethrows its cause.</summary>
public sealed record StatusFailure(Exception Cause);
