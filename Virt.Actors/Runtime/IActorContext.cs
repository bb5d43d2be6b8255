using Microsoft.Extensions.Logging;

namespace Virt.Actors.Runtime;

/// <summary>What an actor may do from inside its own message handler. Not thread-safe: use only from the actor.</summary>
public interface IActorContext
{
    IActorRef Self { get; }

    IActorRef Sender { get; }

    IActorRef? Parent { get; }

    ActorSystem System { get; }

    ILogger Log { get; }

    TimeProvider Time { get; }

    ITimerScheduler Timers { get; }

    IReadOnlyCollection<IActorRef> Children { get; }

    IActorRef ActorOf(Props props, string? name = null);

    IActorRef? Child(string name);

    /// <summary>Stops a child or this actor: children first, then <c>PostStop</c>, then watchers are told.</summary>
    void Stop(IActorRef actor);

    /// <summary>Delivers <see cref="Terminated"/> when <paramref name="actor"/> stops (at once if it already has).</summary>
    void Watch(IActorRef actor);

    void Unwatch(IActorRef actor);

    /// <summary>Replaces the message handler until <see cref="Unbecome"/>.</summary>
    void Become(Action<object> behavior);

    void Unbecome();

    /// <summary>Keeps the current message aside until <see cref="UnstashAll"/>.</summary>
    void Stash();

    /// <summary>Puts stashed messages back in front of the mailbox, in their original order.</summary>
    void UnstashAll();
}
