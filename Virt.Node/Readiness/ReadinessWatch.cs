using Akka.Actor;
using Akka.Event;
using Virt.Actors.Vm;

namespace Virt.Node.Readiness;

/// <summary>
/// Watches one run of one VM (child of the node agent): runs its probe and tells the VM's entity, through the
/// <c>vm</c> region, each time the guest is seen ready. Stopping the actor cancels the probe.
/// </summary>
internal sealed class ReadinessWatch : ReceiveActor
{
    private readonly string _name;
    private readonly long _op;
    private readonly IReadinessProbe _probe;
    private readonly IActorRef _vms;
    private readonly string _node;
    private readonly CancellationTokenSource _cancel = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ReadinessWatch(string name, long op, IReadinessProbe probe, IActorRef vms, string node)
    {
        (_name, _op, _probe, _vms, _node) = (name, op, probe, vms, node);
        Receive<Seen>(seen =>
        {
            _log.Info("VM {0}: ready ({1})", _name, seen.Evidence);
            _vms.Tell(new GuestReadySeen(_name, _op, seen.Evidence, _node));
        });
        Receive<Ended>(ended =>
        {
            if (ended.Error is { } error)
                _log.Warning("VM {0}: the readiness watch ended: {1}", _name, error.Message);
            Context.Stop(Self);
        });
    }

    public static Props Props(string name, long op, IReadinessProbe probe, IActorRef vms, string node) =>
        Akka.Actor.Props.Create(() => new ReadinessWatch(name, op, probe, vms, node));

    protected override void PreStart()
    {
        var self = Self;
        var token = _cancel.Token;
        _ = Task.Run(() => _probe.Run(evidence => self.Tell(new Seen(evidence)), token), token).ContinueWith(
            t => self.Tell(new Ended(t.IsFaulted && !token.IsCancellationRequested ? t.Exception!.GetBaseException() : null)),
            TaskScheduler.Default);
    }

    protected override void PostStop()
    {
        _cancel.Cancel(); // not disposed: the probe may still be looking at its token
    }

    private sealed record Seen(string Evidence);

    private sealed record Ended(Exception? Error);
}
