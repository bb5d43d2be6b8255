using System.Threading.Channels;
using Virt.Actors.Runtime;

namespace Virt.Tests.Support;

/// <summary>
/// An <see cref="IActorRef"/> that records what it is told, so tests can await messages with a deadline.
/// "Nothing arrived" is only asserted after a barrier (a round trip through the actor under test).
/// </summary>
public sealed class Probe : IActorRef
{
    private static int _ids;
    private readonly Channel<(object Message, IActorRef? Sender)> _messages = Channel.CreateUnbounded<(object, IActorRef?)>();

    public ActorPath Path { get; } = ActorPath.Root.Child("probe-" + Interlocked.Increment(ref _ids));

    public IActorRef? LastSender { get; private set; }

    public void Tell(object message, IActorRef? sender = null) => _messages.Writer.TryWrite((message, sender));

    public async Task<T> Expect<T>(TimeSpan? within = null)
    {
        using var cts = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(10));
        try
        {
            var (message, sender) = await _messages.Reader.ReadAsync(cts.Token);
            LastSender = sender;
            return message is T typed
                ? typed
                : throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name} but got {message.GetType().Name}: {message}");
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"no {typeof(T).Name} arrived within {within ?? TimeSpan.FromSeconds(10)}");
        }
    }

    public async Task<T> Expect<T>(T expected, TimeSpan? within = null)
    {
        var actual = await Expect<T>(within);
        Assert.Equal(expected, actual);
        return actual;
    }

    public async Task<List<T>> ExpectMany<T>(int count, TimeSpan? within = null)
    {
        var list = new List<T>(count);
        for (var i = 0; i < count; i++)
            list.Add(await Expect<T>(within));
        return list;
    }

    /// <summary>Asserts nothing is waiting right now; call after a barrier that proves the actor is idle.</summary>
    public void ExpectNothingQueued()
    {
        if (_messages.Reader.TryRead(out var item))
            throw new Xunit.Sdk.XunitException($"expected no message but got {item.Message.GetType().Name}: {item.Message}");
    }
}

public static class ProbeExtensions
{
    /// <summary>Skips messages until one equals <paramref name="expected"/>.</summary>
    public static async Task WaitFor<T>(this Probe probe, T expected, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new Xunit.Sdk.XunitException($"{expected} did not arrive");
            var next = await probe.Expect<object>(left);
            if (Equals(next, expected))
                return;
        }
    }
}
