using Microsoft.Extensions.Logging;

namespace Virt.Actors.Runtime;

/// <summary>
/// Base class of every actor. Messages arrive one at a time, in order, on <see cref="OnReceive"/>; a handler
/// must not block: turn awaited work into a message with <see cref="PipeToExtensions.PipeTo{T}"/>.
/// Actors are made by <see cref="IActorContext.ActorOf"/> / <see cref="ActorSystem.ActorOf"/>, never with <c>new</c>.
/// </summary>
public abstract class Actor
{
    private readonly ActorCell _cell;

    protected Actor()
    {
        _cell = ActorCell.Constructing
                ?? throw new InvalidOperationException(
                    $"{GetType().Name} must be created through ActorOf(Props), not with 'new'");
    }

    protected IActorContext Context => _cell;

    protected IActorRef Self => _cell;

    /// <summary>Sender of the current message, or the dead-letter ref when there is none.</summary>
    protected IActorRef Sender => _cell.Sender;

    protected ILogger Log => _cell.Log;

    protected abstract void OnReceive(object message);

    protected virtual void PreStart()
    {
    }

    protected virtual void PostStop()
    {
    }

    /// <summary>Called on the failed instance before it is replaced; its children are stopped after this.</summary>
    protected virtual void PreRestart(Exception reason, object? message)
    {
    }

    /// <summary>Called on the fresh instance; by default runs <see cref="PreStart"/>.</summary>
    protected virtual void PostRestart(Exception reason) => PreStart();

    /// <summary>How this actor supervises its children.</summary>
    protected virtual SupervisorStrategy SupervisorStrategy => SupervisorStrategy.Default;

    internal void InvokeReceive(object message) => AroundReceive(message);

    internal void InvokePreStart() => AroundPreStart();

    /// <summary>Runtime-level wrappers (persistence uses them to run recovery and hold commands).</summary>
    internal virtual void AroundReceive(object message) => OnReceive(message);

    internal virtual void AroundPreStart() => PreStart();

    internal ActorCell Cell => _cell;

    internal void InvokePostStop() => PostStop();

    internal void InvokePreRestart(Exception reason, object? message) => PreRestart(reason, message);

    internal void InvokePostRestart(Exception reason) => AroundPostRestart(reason);

    internal virtual void AroundPostRestart(Exception reason) => PostRestart(reason);

    internal SupervisorStrategy Strategy => SupervisorStrategy;

    /// <summary>Call for a message the actor does not understand: it is counted and logged.</summary>
    protected void Unhandled(object message) => _cell.System.DeadLetters.Unhandled(message, Self);
}
