namespace Virt.Actors.Runtime;

/// <summary>
/// Runtime-internal messages. They bypass the user queue and are handled even while an actor is
/// suspended after a failure, which is what lets supervision and death watch work.
/// </summary>
internal abstract record SystemMessage;

internal sealed record Create : SystemMessage
{
    public static readonly Create Instance = new();
}

internal sealed record Terminate : SystemMessage
{
    public static readonly Terminate Instance = new();
}

internal sealed record Resume : SystemMessage
{
    public static readonly Resume Instance = new();
}

internal sealed record Recreate(Exception Cause) : SystemMessage;

internal sealed record Failed(ActorCell Child, Exception Cause) : SystemMessage;

internal sealed record ChildTerminated(ActorCell Child) : SystemMessage;

internal sealed record Watch(IInternalActorRef Watchee, IInternalActorRef Watcher) : SystemMessage;

internal sealed record Unwatch(IInternalActorRef Watchee, IInternalActorRef Watcher) : SystemMessage;

internal sealed record DeathWatchNotification(IActorRef Actor) : SystemMessage;
