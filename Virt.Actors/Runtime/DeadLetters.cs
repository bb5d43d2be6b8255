using Microsoft.Extensions.Logging;

namespace Virt.Actors.Runtime;

/// <summary>
/// Where undeliverable messages go: counted, and logged (the first few, then one in a thousand so a storm of
/// them cannot flood the log). An ask whose target is gone fails at once instead of waiting for its timeout.
/// </summary>
public sealed class DeadLetters
{
    private readonly ILogger _log;
    private long _count;
    private long _unhandled;

    internal DeadLetters(ILogger log) => _log = log;

    public long Count => Interlocked.Read(ref _count);

    public long UnhandledCount => Interlocked.Read(ref _unhandled);

    internal void Publish(object message, IActorRef? sender, IActorRef recipient)
    {
        var n = Interlocked.Increment(ref _count);
        if (sender is PromiseActorRef promise)
            promise.Fail(new ActorNotAvailableException(recipient.Path, message.GetType()));
        if (n <= 10 || n % 1000 == 0)
            _log.LogInformation("dead letter #{Count}: {MessageType} to {Recipient} from {Sender}",
                n, message.GetType().Name, recipient.Path, sender?.Path.Value ?? "nobody");
    }

    internal void Unhandled(object message, IActorRef recipient)
    {
        var n = Interlocked.Increment(ref _unhandled);
        if (n <= 10 || n % 1000 == 0)
            _log.LogWarning("unhandled message #{Count}: {MessageType} in {Recipient}", n, message.GetType().Name, recipient.Path);
    }
}

public sealed class ActorNotAvailableException(ActorPath path, Type messageType)
    : Exception($"actor {path} is stopped; {messageType.Name} was not delivered");
