namespace Virt.Actors.Runtime;

/// <summary>
/// Turns the outcome of a task into a message for an actor, so a handler can start I/O and return at once
/// instead of blocking its mailbox.
/// </summary>
public static class PipeToExtensions
{
    public static void PipeTo<T>(
        this Task<T> task,
        IActorRef recipient,
        IActorRef? sender = null,
        Func<T, object>? success = null,
        Func<Exception, object>? failure = null)
    {
        task.ContinueWith(
            t =>
            {
                object message;
                try
                {
                    message = t.IsCompletedSuccessfully
                        ? success is null ? t.Result! : success(t.Result)
                        : Failure(t, failure);
                }
                catch (Exception ex)
                {
                    message = new StatusFailure(ex);
                }

                recipient.Tell(message, sender);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public static void PipeTo(
        this Task task,
        IActorRef recipient,
        Func<object> success,
        Func<Exception, object>? failure = null,
        IActorRef? sender = null)
    {
        task.ContinueWith(
            t => recipient.Tell(t.IsCompletedSuccessfully ? success() : Failure(t, failure), sender),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static object Failure(Task task, Func<Exception, object>? failure)
    {
        Exception cause = task.IsCanceled
            ? new TaskCanceledException(task)
            : task.Exception!.InnerExceptions.Count == 1 ? task.Exception.InnerException! : task.Exception;
        return failure is null ? new StatusFailure(cause) : failure(cause);
    }
}
