namespace Virt.Actors.Runtime;

/// <summary>Death watch: who is told when this actor stops, and whom this actor waits on.</summary>
internal sealed partial class ActorCell
{
    private HashSet<IInternalActorRef>? _watchers;
    private HashSet<IInternalActorRef>? _watching;

    public void Watch(IActorRef actor)
    {
        if (actor is not IInternalActorRef target || ReferenceEquals(target, this))
            return;
        if ((_watching ??= new HashSet<IInternalActorRef>()).Add(target))
            target.SendSystem(new Watch(target, this));
    }

    public void Unwatch(IActorRef actor)
    {
        if (actor is IInternalActorRef target && _watching?.Remove(target) == true)
            target.SendSystem(new Unwatch(target, this));
    }

    private void HandleWatch(Watch watch)
    {
        if (_state == LifecycleState.Terminated)
            watch.Watcher.SendSystem(new DeathWatchNotification(this));
        else
            (_watchers ??= new HashSet<IInternalActorRef>()).Add(watch.Watcher);
    }

    private void HandleDeathWatchNotification(IActorRef actor)
    {
        if (_state == LifecycleState.Terminated || actor is not IInternalActorRef target)
            return;
        if (_watching?.Remove(target) == true)
            Tell(new Terminated(actor), actor);
    }

    private void NotifyWatchersAndUnwatchAll()
    {
        if (_watchers is { } watchers)
        {
            foreach (var watcher in watchers)
                watcher.SendSystem(new DeathWatchNotification(this));
            _watchers = null;
        }

        if (_watching is { } watching)
        {
            foreach (var target in watching)
                target.SendSystem(new Unwatch(target, this));
            _watching = null;
        }
    }
}
