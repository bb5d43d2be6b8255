namespace Virt.Actors.Runtime;

public enum Directive
{
    /// <summary>Keep the actor and its state; drop the failing message.</summary>
    Resume,

    /// <summary>Replace the actor with a fresh instance after a backoff; its mailbox is kept.</summary>
    Restart,

    /// <summary>Stop the actor; the parent receives <see cref="ChildFailed"/>.</summary>
    Stop,

    /// <summary>Fail the parent with the same cause.</summary>
    Escalate,
}

/// <summary>
/// How a parent treats a failing child. Restarts back off exponentially from <see cref="MinBackoff"/> to
/// <see cref="MaxBackoff"/>; more than <see cref="MaxFailures"/> failures within <see cref="Window"/> means give up
/// (stop the child and tell the parent).
/// </summary>
public sealed record SupervisorStrategy(
    Func<Exception, Directive> Decider,
    int MaxFailures,
    TimeSpan Window,
    TimeSpan MinBackoff,
    TimeSpan MaxBackoff)
{
    public static SupervisorStrategy Default { get; } = new(
        ex => ex is ActorInitializationException ? Directive.Stop : Directive.Restart,
        MaxFailures: 10,
        Window: TimeSpan.FromMinutes(1),
        MinBackoff: TimeSpan.FromMilliseconds(100),
        MaxBackoff: TimeSpan.FromSeconds(10));

    public static SupervisorStrategy Stopping { get; } = Default with { Decider = _ => Directive.Stop };

    /// <summary>Backoff before restart number <paramref name="failuresInWindow"/> (1-based).</summary>
    public TimeSpan BackoffFor(int failuresInWindow)
    {
        if (MinBackoff <= TimeSpan.Zero)
            return TimeSpan.Zero;
        var factor = Math.Pow(2, Math.Clamp(failuresInWindow - 1, 0, 30));
        var ticks = Math.Min(MinBackoff.Ticks * factor, MaxBackoff.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>An actor's constructor or <c>PreStart</c> threw.</summary>
public sealed class ActorInitializationException(ActorPath path, Exception inner)
    : Exception($"actor {path} failed to start: {inner.Message}", inner);
