namespace Virt.Actors.Runtime;

public static class AskExtensions
{
    /// <summary>
    /// Sends <paramref name="message"/> with a temporary sender and awaits the reply. A <see cref="StatusFailure"/>
    /// reply is rethrown; no reply within <paramref name="timeout"/> throws <see cref="AskTimeoutException"/>;
    /// a stopped target fails at once with <see cref="ActorNotAvailableException"/>.
    /// </summary>
    public static async Task<T> Ask<T>(this IActorRef target, object message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var system = (target as ActorCell)?.System
                     ?? throw new ArgumentException($"{target.Path} is not an actor of a local system", nameof(target));
        var promise = new PromiseActorRef(system, timeout, target, message.GetType());
        await using var registration = cancellationToken.Register(static s =>
        {
            var (p, token) = ((PromiseActorRef, CancellationToken))s!;
            p.Cancel(token);
        }, (promise, cancellationToken));
        target.Tell(message, promise);
        var reply = await promise.Task.ConfigureAwait(false);
        return reply is T typed
            ? typed
            : throw new InvalidCastException(
                $"ask to {target.Path} with {message.GetType().Name} expected a {typeof(T).Name} reply but got {reply.GetType().Name}");
    }
}
