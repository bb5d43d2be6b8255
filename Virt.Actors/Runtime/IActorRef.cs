namespace Virt.Actors.Runtime;

/// <summary>A handle to an actor: the only way to talk to it. Safe to share between threads.</summary>
public interface IActorRef
{
    ActorPath Path { get; }

    /// <summary>Fire-and-forget. Never blocks; a message to a stopped actor becomes a dead letter.</summary>
    void Tell(object message, IActorRef? sender = null);
}

/// <summary>What the runtime needs beyond <see cref="IActorRef"/>: system messages and liveness.</summary>
internal interface IInternalActorRef : IActorRef
{
    void SendSystem(SystemMessage message);

    bool IsTerminated { get; }
}
