using Microsoft.Extensions.Logging;
using Virt.Actors.Persistence;
using Virt.Actors.Runtime;

namespace Virt.Actors.Vm;

/// <summary>Everything a VM actor needs from its host process.</summary>
public sealed record VmHost(string NodeName, VmDefaults Defaults, IEventJournal Journal, ISnapshotStore Snapshots, IActorRef Agent);

/// <summary>
/// Parent of every VM actor (named after its VM). At start it brings back every VM in the journal and answers
/// nothing until all have recovered, so no answer is ever based on half the VMs. Keeps a read model of all VMs
/// for listing, routes commands and libvirt events to the right VM, and creates a VM actor on define.
/// </summary>
internal sealed class VmDirectory(VmHost host) : Actor
{
    private readonly Dictionary<string, VmView> _views = new(StringComparer.Ordinal);
    private readonly HashSet<string> _recovering = new(StringComparer.Ordinal);
    private readonly VmDecider _decider = new(host.NodeName, host.Defaults);
    private bool _ready;

    public static Props Props(VmHost host) => Runtime.Props.Create(() => new VmDirectory(host));

    private sealed record Known(List<string> Names);

    protected override void PreStart() =>
        KnownNames().PipeTo(Self, success: names => new Known(names));

    private async Task<List<string>> KnownNames()
    {
        var names = new List<string>();
        await foreach (var id in host.Journal.CurrentPersistenceIdsAsync())
        {
            if (id.StartsWith(VmSerialization.IdPrefix, StringComparison.Ordinal))
                names.Add(id[VmSerialization.IdPrefix.Length..]);
        }

        return names;
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Known known:
                foreach (var name in known.Names)
                {
                    Spawn(name);
                    _recovering.Add(name);
                }

                Log.LogInformation("recovering {Count} VM(s) from the journal", known.Names.Count);
                if (_recovering.Count == 0)
                    BecomeReady();
                break;
            case StatusFailure failure:
                throw new InvalidOperationException("cannot list the VMs in the journal", failure.Cause);
            case VmProtocol.Changed changed:
                if (changed.View is null)
                    _views.Remove(changed.Name);
                else
                    _views[changed.Name] = changed.View;
                if (changed.Recovered && _recovering.Remove(changed.Name) && _recovering.Count == 0)
                    BecomeReady();
                break;
            case VmProtocol.GetStatus:
                Sender.Tell(new VmProtocol.Status(_views.Count, _ready, _recovering.Count));
                break;
            case VmProtocol.ToVm or VmProtocol.GetVm or VmProtocol.ListVms when !_ready:
                Context.Stash();
                break;
            case VmProtocol.ToVm to:
                Route(to);
                break;
            case VmProtocol.GetVm get:
                Sender.Tell(_views.TryGetValue(get.Name, out var view) ? view : new VmProtocol.NotFound(get.Name));
                break;
            case VmProtocol.ListVms:
                Sender.Tell(_views.Values.OrderBy(v => v.Name, StringComparer.Ordinal).ToList());
                break;
            case DomainStateChanged changed:
                Context.Child(changed.Name)?.Tell(changed);
                break;
            case NodeAvailability availability:
                foreach (var child in Context.Children)
                    child.Tell(availability);
                break;
            case ChildFailed failed:
                Log.LogError(failed.Cause, "VM actor {Vm} stopped after repeated failures", failed.Child.Path.Name);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Route(VmProtocol.ToVm to)
    {
        var child = Context.Child(to.Name);
        if (to.Command is VmCommand.Define)
            child ??= Spawn(to.Name);
        else if (!_views.ContainsKey(to.Name))
            child = null;
        if (child is null)
            Sender.Tell(new VmProtocol.NotFound(to.Name));
        else
            child.Tell(to.Command, Sender);
    }

    private IActorRef Spawn(string name) =>
        Context.ActorOf(VmActor.Props(name, _decider, host.Defaults, host.Journal, host.Snapshots, host.Agent, Self), name);

    private void BecomeReady()
    {
        _ready = true;
        Log.LogInformation("all {Count} VM(s) recovered", _views.Count);
        Context.UnstashAll();
    }
}
