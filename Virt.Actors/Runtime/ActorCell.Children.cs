using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Virt.Actors.Runtime;

/// <summary>Children and supervision: creating, stopping and restarting them, and deciding on their failures.</summary>
internal sealed partial class ActorCell
{
    private ConcurrentDictionary<string, ActorCell>? _children;
    private Dictionary<ActorCell, RestartHistory>? _restartHistory;
    private Exception? _pendingRestartCause;
    private long _nameCounter;

    public IReadOnlyCollection<IActorRef> Children =>
        _children is { } children ? children.Values.ToArray() : [];

    public IActorRef ActorOf(Props props, string? name = null)
    {
        if (_state is LifecycleState.Terminating or LifecycleState.Terminated)
            throw new InvalidOperationException($"actor {Path} is stopping; it cannot create children");
        if (name is null)
            name = "$" + Base36(Interlocked.Increment(ref _nameCounter));
        else
            ActorPath.ValidateName(name);

        var children = _children ?? Interlocked.CompareExchange(ref _children, new(), null) ?? _children!;
        var child = new ActorCell(System, this, props, Path.Child(name));
        if (!children.TryAdd(name, child))
            throw new InvalidActorNameException($"actor name '{name}' is already taken under {Path}");
        child.SendSystem(Create.Instance);
        if (_state is LifecycleState.Terminating or LifecycleState.Terminated)
            child.SendSystem(Terminate.Instance);
        return child;
    }

    public IActorRef? Child(string name) =>
        _children is { } children && children.TryGetValue(name, out var child) ? child : null;

    internal ActorCell? ChildCell(string name) =>
        _children is { } children && children.TryGetValue(name, out var child) ? child : null;

    public void Stop(IActorRef actor)
    {
        if (actor is ActorCell cell)
            cell.SendSystem(Terminate.Instance);
    }

    /// <summary>Sends every child a stop; true when there was at least one to wait for.</summary>
    private bool StopAllChildren()
    {
        if (_children is not { IsEmpty: false } children)
            return false;
        foreach (var child in children.Values)
            child.SendSystem(Terminate.Instance);
        return true;
    }

    /// <summary>Called by a child as it terminates, from its own thread; only removes that very child.</summary>
    private void ReleaseName(ActorCell child) =>
        _children?.TryRemove(new KeyValuePair<string, ActorCell>(child.Path.Name, child));

    private void HandleChildTerminated(ActorCell child)
    {
        ReleaseName(child);
        if (_restartHistory?.Remove(child, out var history) == true)
            history.Dispose();
        if (_children is { IsEmpty: false })
            return;
        if (_state == LifecycleState.Terminating)
            FinishTerminate();
        else if (_state == LifecycleState.Restarting)
            FinishRecreate();
    }

    private void HandleChildFailure(Failed failed)
    {
        var child = failed.Child;
        if (ChildCell(child.Path.Name) != child || _state is LifecycleState.Terminating or LifecycleState.Terminated)
            return;

        var strategy = _actor?.Strategy ?? SupervisorStrategy.Default;
        var directive = strategy.Decider(failed.Cause);
        switch (directive)
        {
            case Directive.Resume:
                child.SendSystem(Resume.Instance);
                break;
            case Directive.Stop:
                GiveUp(child, failed.Cause, 1);
                break;
            case Directive.Escalate:
                Fail(failed.Cause, null);
                break;
            case Directive.Restart:
                _restartHistory ??= new Dictionary<ActorCell, RestartHistory>();
                if (!_restartHistory.TryGetValue(child, out var history))
                    _restartHistory[child] = history = new RestartHistory();
                var failures = history.Record(Time.GetUtcNow(), strategy.Window);
                if (failures > strategy.MaxFailures)
                {
                    GiveUp(child, failed.Cause, failures);
                    break;
                }

                var delay = strategy.BackoffFor(failures);
                Log.LogInformation("restarting {Child} in {DelayMs} ms (failure {Failures} of {Max} allowed)",
                    child.Path, delay.TotalMilliseconds, failures, strategy.MaxFailures);
                history.ScheduleRestart(Time, delay, () => child.SendSystem(new Recreate(failed.Cause)));
                break;
        }
    }

    private void GiveUp(ActorCell child, Exception cause, int failures)
    {
        Log.LogWarning("stopping {Child} after {Failures} failure(s): {Cause}", child.Path, failures, cause.Message);
        child.SendSystem(Terminate.Instance);
        Tell(new ChildFailed(child, cause, failures), this);
    }

    private void BeginRecreate(Exception cause)
    {
        if (_state is LifecycleState.Terminating or LifecycleState.Terminated)
            return;
        try
        {
            _actor?.InvokePreRestart(cause, null);
        }
        catch (Exception ex)
        {
            Log.LogError(ex, "actor {Path} failed in PreRestart", Path);
        }

        _timers?.CancelAll();
        UnstashEverything();
        _state = LifecycleState.Restarting;
        _pendingRestartCause = cause;
        if (!StopAllChildren())
            FinishRecreate();
    }

    private void FinishRecreate()
    {
        var cause = _pendingRestartCause ?? new InvalidOperationException("restart");
        _pendingRestartCause = null;
        CreateInstance(cause);
    }

    private static string Base36(long value)
    {
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<char> buffer = stackalloc char[16];
        var i = buffer.Length;
        do
        {
            buffer[--i] = digits[(int)(value % 36)];
            value /= 36;
        }
        while (value > 0);
        return new string(buffer[i..]);
    }
}
