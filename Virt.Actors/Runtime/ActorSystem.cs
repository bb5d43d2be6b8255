using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Virt.Actors.Runtime;

public sealed class ActorSystemOptions
{
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>User messages one actor handles per turn on a thread before yielding it to others.</summary>
    public int Throughput { get; init; } = 64;
}

/// <summary>
/// The root of an actor hierarchy: top-level actors live under <c>/user</c>. All time comes from
/// <see cref="ActorSystemOptions.Time"/>, so tests drive timers with a manual clock.
/// </summary>
public sealed class ActorSystem : IAsyncDisposable
{
    private readonly ActorCell _userGuardian;
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ActorSystem(string name, ActorSystemOptions options)
    {
        Name = name;
        Time = options.Time;
        LoggerFactory = options.LoggerFactory;
        Throughput = Math.Max(1, options.Throughput);
        DeadLetters = new DeadLetters(LoggerFactory.CreateLogger("Virt.Actors.DeadLetters"));
        DeadLetterRef = new DeadLetterActorRef(this);
        _userGuardian = new ActorCell(this, null, Props.Create(() => new Guardian()), ActorPath.Root.Child("user"));
        _userGuardian.SendSystem(Runtime.Create.Instance);
    }

    public string Name { get; }

    public TimeProvider Time { get; }

    public ILoggerFactory LoggerFactory { get; }

    public DeadLetters DeadLetters { get; }

    /// <summary>Messages told here are counted and logged as dead letters.</summary>
    public IActorRef DeadLetterRef { get; }

    /// <summary>Completes when the system has stopped after <see cref="TerminateAsync"/>.</summary>
    public Task WhenTerminated => _terminated.Task;

    internal int Throughput { get; }

    public static ActorSystem Create(string name, ActorSystemOptions? options = null) =>
        new(name, options ?? new ActorSystemOptions());

    /// <summary>Creates a top-level actor at <c>/user/name</c>.</summary>
    public IActorRef ActorOf(Props props, string? name = null) => _userGuardian.ActorOf(props, name);

    /// <summary>Finds a live actor by absolute path (<c>/user/vms/web-1</c>), or null.</summary>
    public IActorRef? Lookup(string path)
    {
        var elements = ActorPath.Elements(path);
        if (elements.Length == 0 || elements[0] != "user")
            return null;
        var cell = _userGuardian;
        foreach (var name in elements.Skip(1))
        {
            cell = cell.ChildCell(name);
            if (cell is null)
                return null;
        }

        return cell.IsTerminated ? null : cell;
    }

    public void Stop(IActorRef actor)
    {
        if (actor is IInternalActorRef target)
            target.SendSystem(Terminate.Instance);
    }

    /// <summary>Stops <paramref name="actor"/> and waits until it (and its children) have stopped.</summary>
    public async Task<bool> GracefulStop(IActorRef actor, TimeSpan timeout)
    {
        if (actor is not IInternalActorRef target)
            throw new ArgumentException($"{actor.Path} is not a local actor", nameof(actor));
        var watcher = new PromiseActorRef(this, timeout, actor, typeof(Terminate));
        target.SendSystem(new Watch(target, watcher));
        target.SendSystem(Terminate.Instance);
        try
        {
            await watcher.Task.ConfigureAwait(false);
            return true;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }

    /// <summary>Stops every actor, children before parents, and completes when all have stopped.</summary>
    public Task TerminateAsync()
    {
        _userGuardian.SendSystem(Terminate.Instance);
        return _terminated.Task;
    }

    public async ValueTask DisposeAsync() => await TerminateAsync().ConfigureAwait(false);

    internal void GuardianTerminated(ActorCell guardian) => _terminated.TrySetResult();

    /// <summary>Top of the user hierarchy: supervises top-level actors and logs when it gives up on one.</summary>
    private sealed class Guardian : Actor
    {
        protected override void OnReceive(object message)
        {
            if (message is ChildFailed failed)
                Log.LogError(failed.Cause, "top-level actor {Child} stopped after {Failures} failure(s)", failed.Child.Path, failed.Failures);
            else
                Unhandled(message);
        }
    }

    private sealed class DeadLetterActorRef(ActorSystem system) : IActorRef
    {
        public ActorPath Path { get; } = ActorPath.Root.Child("deadLetters");

        public void Tell(object message, IActorRef? sender = null) => system.DeadLetters.Publish(message, sender, this);
    }
}
