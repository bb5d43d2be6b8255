namespace Virt.Actors.Runtime;

/// <summary>
/// A one-shot actor ref that completes a task with the first message it gets: the reply side of an ask, and the
/// watcher used by <see cref="ActorSystem.GracefulStop"/>. Times out on the system clock.
/// </summary>
internal sealed class PromiseActorRef : IInternalActorRef
{
    private static long _counter;
    private readonly TaskCompletionSource<object> _promise = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _timer;

    public PromiseActorRef(ActorSystem system, TimeSpan timeout, IActorRef target, Type messageType)
    {
        Path = ActorPath.Root.Child("temp").Child("$" + Interlocked.Increment(ref _counter));
        _timer = system.Time.CreateTimer(
            static s =>
            {
                var (self, target, type, timeout) = ((PromiseActorRef, IActorRef, Type, TimeSpan))s!;
                self.Fail(new AskTimeoutException(target.Path, type, timeout));
            },
            (this, target, messageType, timeout),
            timeout,
            Timeout.InfiniteTimeSpan);
    }

    public ActorPath Path { get; }

    public Task<object> Task => _promise.Task;

    public bool IsTerminated => _promise.Task.IsCompleted;

    public void Tell(object message, IActorRef? sender = null)
    {
        if (message is StatusFailure failure)
            Fail(failure.Cause);
        else if (_promise.TrySetResult(message))
            _timer.Dispose();
    }

    public void SendSystem(SystemMessage message)
    {
        if (message is DeathWatchNotification notification)
            Tell(new Terminated(notification.Actor));
    }

    public void Fail(Exception cause)
    {
        if (_promise.TrySetException(cause))
            _timer.Dispose();
    }

    public void Cancel(CancellationToken token)
    {
        if (_promise.TrySetCanceled(token))
            _timer.Dispose();
    }
}

/// <summary>An ask got no reply in time. Names the actor and the message so the log says what hung.</summary>
public sealed class AskTimeoutException(ActorPath target, Type messageType, TimeSpan timeout)
    : TimeoutException($"ask to {target} with {messageType.Name} got no reply within {timeout.TotalMilliseconds:0} ms")
{
    public ActorPath Target { get; } = target;

    public Type MessageType { get; } = messageType;
}
