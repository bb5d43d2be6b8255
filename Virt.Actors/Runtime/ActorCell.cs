using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Virt.Actors.Runtime;

/// <summary>
/// One live actor: its mailbox, its lifecycle and its place in the hierarchy. The cell is also the actor's
/// <see cref="IActorRef"/> (one object per actor keeps idle actors small).
/// Threading: <see cref="Tell"/> and <see cref="SendSystem"/> may be called from any thread; everything else
/// runs inside <see cref="Execute"/>, which the thread pool never runs twice at once for one cell.
/// </summary>
internal sealed partial class ActorCell : IInternalActorRef, IActorContext, IThreadPoolWorkItem
{
    [ThreadStatic] private static ActorCell? _constructing;

    private readonly ConcurrentQueue<Envelope> _mailbox = new();
    private readonly ConcurrentQueue<SystemMessage> _systemQueue = new();
    private readonly Props _props;
    private int _scheduled;
    private volatile LifecycleState _state = LifecycleState.Creating;
    private Actor? _actor;
    private Action<object>? _behavior;
    private Envelope _current;
    private TimerScheduler? _timers;
    private ILogger? _log;

    public ActorCell(ActorSystem system, ActorCell? parent, Props props, ActorPath path)
    {
        System = system;
        ParentCell = parent;
        _props = props;
        Path = path;
    }

    private enum LifecycleState
    {
        Creating,
        Running,
        Suspended,
        Restarting,
        Terminating,
        Terminated,
    }

    internal static ActorCell? Constructing => _constructing;

    public ActorPath Path { get; }

    public ActorSystem System { get; }

    internal ActorCell? ParentCell { get; }

    public IActorRef? Parent => ParentCell;

    public IActorRef Self => this;

    public IActorRef Sender => _current.Sender ?? System.DeadLetterRef;

    public TimeProvider Time => System.Time;

    public ILogger Log => _log ??= System.LoggerFactory.CreateLogger(_props.ActorType.FullName ?? _props.ActorType.Name);

    public ITimerScheduler Timers => _timers ??= new TimerScheduler(this);

    public bool IsTerminated => _state == LifecycleState.Terminated;

    internal Actor? Instance => _actor;

    /// <summary>User messages waiting in the mailbox (not counting stashed ones).</summary>
    internal int MailboxDepth => _mailbox.Count;

    public void Tell(object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_state == LifecycleState.Terminated)
        {
            System.DeadLetters.Publish(message, sender, this);
            return;
        }

        _mailbox.Enqueue(new Envelope(message, sender));
        Schedule();
    }

    public void SendSystem(SystemMessage message)
    {
        _systemQueue.Enqueue(message);
        Schedule();
    }

    private void Schedule()
    {
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>One mailbox run: all system messages, then up to <c>Throughput</c> user messages.</summary>
    public void Execute()
    {
        try
        {
            ProcessSystemMessages();
            for (var budget = System.Throughput; budget > 0 && _state == LifecycleState.Running; budget--)
            {
                if (!TryNextUserMessage(out var envelope))
                    break;
                Invoke(envelope);
                if (!_systemQueue.IsEmpty)
                    ProcessSystemMessages();
            }

            if (_state == LifecycleState.Terminated)
                DrainToDeadLetters();
        }
        finally
        {
            Volatile.Write(ref _scheduled, 0);
            if (HasWork())
                Schedule();
        }
    }

    private bool HasWork() =>
        !_systemQueue.IsEmpty
        || ((_state == LifecycleState.Running || _state == LifecycleState.Terminated) && (!_mailbox.IsEmpty || HasFrontMessages));

    private void Invoke(Envelope envelope)
    {
        _current = envelope;
        try
        {
            var message = envelope.Message;
            if (message is TimerMessage timer)
            {
                if (_timers is null || !_timers.Accept(timer))
                    return;
                message = timer.Message;
                _current = envelope with { Message = message };
            }

            if (message is PoisonPill)
            {
                BeginTerminate();
                return;
            }

            if (_behavior is { } behavior)
                behavior(message);
            else
                _actor!.InvokeReceive(message);
        }
        catch (Exception ex)
        {
            Fail(ex, envelope.Message);
        }
        finally
        {
            _current = default;
        }
    }

    /// <summary>The actor threw: stop taking user messages and let the parent decide.</summary>
    private void Fail(Exception cause, object? message)
    {
        Log.LogError(cause, "actor {Path} failed on {MessageType}", Path, message?.GetType().Name ?? "start");
        _state = LifecycleState.Suspended;
        if (ParentCell is null)
            BeginTerminate();
        else
            ParentCell.SendSystem(new Failed(this, cause));
    }

    private void ProcessSystemMessages()
    {
        while (_systemQueue.TryDequeue(out var message))
        {
            try
            {
                HandleSystem(message);
            }
            catch (Exception ex)
            {
                Log.LogError(ex, "actor {Path} failed handling {SystemMessage}", Path, message.GetType().Name);
            }
        }
    }

    private void HandleSystem(SystemMessage message)
    {
        switch (message)
        {
            case Create:
                CreateInstance(restartCause: null);
                break;
            case Terminate:
                BeginTerminate();
                break;
            case Resume:
                if (_state == LifecycleState.Suspended)
                    _state = LifecycleState.Running;
                break;
            case Recreate recreate:
                BeginRecreate(recreate.Cause);
                break;
            case Failed failed:
                HandleChildFailure(failed);
                break;
            case ChildTerminated terminated:
                HandleChildTerminated(terminated.Child);
                break;
            case Watch watch:
                HandleWatch(watch);
                break;
            case Unwatch unwatch:
                _watchers?.Remove(unwatch.Watcher);
                break;
            case DeathWatchNotification notification:
                HandleDeathWatchNotification(notification.Actor);
                break;
        }
    }

    /// <summary>Makes a fresh actor instance; a throwing constructor or PreStart counts as a failure.</summary>
    private void CreateInstance(Exception? restartCause)
    {
        if (_state is LifecycleState.Terminating or LifecycleState.Terminated)
            return;
        var previous = _constructing;
        try
        {
            _constructing = this;
            _behavior = null;
            _actor = _props.Factory();
            _constructing = previous;
            _state = LifecycleState.Running;
            if (restartCause is null)
                _actor.InvokePreStart();
            else
                _actor.InvokePostRestart(restartCause);
        }
        catch (Exception ex)
        {
            _constructing = previous;
            Fail(new ActorInitializationException(Path, ex), null);
        }
    }

    private void BeginTerminate()
    {
        if (_state is LifecycleState.Terminating or LifecycleState.Terminated)
            return;
        _state = LifecycleState.Terminating;
        _timers?.CancelAll();
        if (!StopAllChildren())
            FinishTerminate();
    }

    private void FinishTerminate()
    {
        try
        {
            _actor?.InvokePostStop();
        }
        catch (Exception ex)
        {
            Log.LogError(ex, "actor {Path} failed in PostStop", Path);
        }

        _state = LifecycleState.Terminated;
        _actor = null;
        _behavior = null;
        ParentCell?.ReleaseName(this); // before watchers hear of it: a stopped name is reusable at once
        NotifyWatchersAndUnwatchAll();
        if (ParentCell is null)
            System.GuardianTerminated(this);
        else
            ParentCell.SendSystem(new ChildTerminated(this));
        DrainToDeadLetters();
    }

    private void DrainToDeadLetters()
    {
        foreach (var envelope in TakeStashAndFront())
            System.DeadLetters.Publish(envelope.Message, envelope.Sender, this);
        while (_mailbox.TryDequeue(out var envelope))
        {
            if (envelope.Message is not TimerMessage)
                System.DeadLetters.Publish(envelope.Message, envelope.Sender, this);
        }
    }

    /// <summary>Makes <see cref="Sender"/> answer <paramref name="sender"/> for the rest of this handler.</summary>
    internal void OverrideSender(IActorRef? sender) => _current = _current with { Sender = sender };

    public void Become(Action<object> behavior) => _behavior = behavior;

    public void Unbecome() => _behavior = null;

    public override string ToString() => Path.Value;
}
