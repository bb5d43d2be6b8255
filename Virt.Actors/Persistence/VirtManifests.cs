using System.Globalization;
using System.Text.Json.Nodes;
using Virt.Actors.Balancer;
using Virt.Actors.Fencing;
using Virt.Actors.Vm;

namespace Virt.Actors.Persistence;

/// <summary>
/// The manifest of every type Virt serializes: persisted VM events and snapshots, and the messages that may cross
/// between nodes. Renaming a class is free; changing what a manifest's JSON means needs a new version and an
/// upcaster from the old one, because journals keep old events forever.
/// </summary>
public static class VirtManifests
{
    public static ManifestCodec Codec { get; } = Build();

    private static ManifestCodec Build() => new ManifestCodec()
        // Events and snapshots: stored in the journal.
        .Register<VmEvent.Defined>("vm.defined.v1")
        .Register<VmEvent.SpecUpdated>("vm.spec-updated.v1")
        .Register<VmEvent.PlacementRequested>("vm.placement-requested.v1")
        .Register<VmEvent.PlacementFailed>("vm.placement-failed.v1")
        .Register<VmEvent.StartRequested>("vm.start-requested.v1")
        .Register<VmEvent.Started>("vm.started.v1")
        .Register<VmEvent.Adopted>("vm.adopted.v1")
        .Register<VmEvent.StartFailed>("vm.start-failed.v1")
        .Register<VmEvent.Ready>("vm.ready.v1")
        .Register<VmEvent.ReadyOverdue>("vm.ready-overdue.v1")
        .Register<VmEvent.StopRequested>("vm.stop-requested.v1")
        .Register<VmEvent.StopEscalated>("vm.stop-escalated.v1")
        .Register<VmEvent.Stopped>("vm.stopped.v1")
        .Register<VmEvent.StoppedUnexpectedly>("vm.stopped-unexpectedly.v1")
        .Register<VmEvent.RestartScheduled>("vm.restart-scheduled.v2")
        .AddUpcaster("vm.restart-scheduled.v1", "vm.restart-scheduled.v2", DelayAsMilliseconds)
        .Register<VmEvent.Failed>("vm.failed.v1")
        .Register<VmEvent.FailuresCleared>("vm.failures-cleared.v1")
        .Register<VmEvent.DesiredChanged>("vm.desired-changed.v1")
        .Register<VmEvent.Deleted>("vm.deleted.v1")
        .Register<VmEvent.HostLost>("vm.host-lost.v1")
        .Register<VmEvent.HostFenced>("vm.host-fenced.v1")
        .Register<VmEvent.FencePending>("vm.fence-pending.v1")
        .Register<VmState>("vm.state.v1")
        .Register<BalancerEvent.RuleAdded>("balancer.rule-added.v1")
        .Register<BalancerEvent.RuleRemoved>("balancer.rule-removed.v1")
        .Register<Fencing.FenceEvent.Requested>("fencing.requested.v1")
        .Register<Fencing.FenceEvent.Confirmed>("fencing.confirmed.v1")
        .Register<Fencing.FenceEvent.HostSeen>("fencing.host-seen.v1")

        // Messages: only on the wire, never stored.
        .Register<VmProtocol.Command>("vm.msg.command.v1")
        .Register<VmProtocol.Get>("vm.msg.get.v1")
        .Register<VmProtocol.NotFound>("vm.msg.not-found.v1")
        .Register<VmProtocol.Result>("vm.msg.result.v1")
        .Register<VmProtocol.KeyReused>("vm.msg.key-reused.v1")
        .Register<VmView>("vm.msg.view.v1")
        .Register<StartDomain>("agent.start-domain.v1")
        .Register<StopDomain>("agent.stop-domain.v1")
        .Register<UndefineDomain>("agent.undefine-domain.v1")
        .Register<ObserveDomain>("agent.observe-domain.v1")
        .Register<DomainRequestDone>("agent.request-done.v1")
        .Register<DomainObservation>("agent.observation.v1")
        .Register<DomainStateChanged>("agent.state-changed.v1")
        .Register<HostAvailable>("agent.host-available.v1")
        .Register<WatchReadiness>("agent.watch-readiness.v1")
        .Register<GuestReadySeen>("agent.guest-ready.v1")
        .Register<ReadDomain>("agent.read-domain.v1")
        .Register<ResetDomain>("agent.reset-domain.v1")
        .Register<SendDomainKeys>("agent.send-keys.v1")
        .Register<DomainDetails>("agent.domain-details.v1")
        .Register<DomainControlDone>("agent.control-done.v1")
        .Register<BalancerProtocol.PlaceVm>("balancer.place-vm.v1")
        .Register<BalancerProtocol.Placement>("balancer.placement.v1")
        .Register<BalancerProtocol.HostReport>("balancer.host-report.v1")
        .Register<BalancerProtocol.HostRemoved>("balancer.host-removed.v1")
        .Register<BalancerProtocol.GetHosts>("balancer.get-hosts.v1")
        .Register<BalancerProtocol.Hosts>("balancer.hosts.v1")
        .Register<BalancerProtocol.AddRule>("balancer.add-rule.v1")
        .Register<BalancerProtocol.RuleAdded>("balancer.rule-added-answer.v1")
        .Register<BalancerProtocol.RuleRefused>("balancer.rule-refused.v1")
        .Register<BalancerProtocol.RemoveRule>("balancer.remove-rule.v1")
        .Register<BalancerProtocol.RuleRemoved>("balancer.rule-removed-answer.v1")
        .Register<BalancerProtocol.GetRules>("balancer.get-rules.v1")
        .Register<BalancerProtocol.RuleList>("balancer.rule-list.v1")
        .Register<BalancerProtocol.Explain>("balancer.explain.v1")
        .Register<BalancerProtocol.Explanation>("balancer.explanation.v1")
        .Register<BalancerProtocol.GetSnapshot>("balancer.get-snapshot.v1")
        .Register<BalancerProtocol.Snapshot>("balancer.snapshot.v1")
        .Register<Fencing.FencerProtocol.HostSeen>("fencing.msg.host-seen.v1")
        .Register<Fencing.FencerProtocol.EnsureFenced>("fencing.msg.ensure-fenced.v1")
        .Register<Fencing.FencerProtocol.FenceStatus>("fencing.msg.fence-status.v1")
        .Register<Fencing.FencerProtocol.GetFences>("fencing.msg.get-fences.v1")
        .Register<Fencing.FencerProtocol.Fences>("fencing.msg.fences.v1")
        .Register<Fencing.FencerProtocol.FenceNow>("fencing.msg.fence-now.v1")
        .Register<Fencing.FencerProtocol.ConfirmFenced>("fencing.msg.confirm-fenced.v1")
        .Register<Fencing.FencerProtocol.Answer>("fencing.msg.answer.v1")
        .Register<GetWatchdog>("fencing.get-watchdog.v1")
        .Register<WatchdogStatus>("fencing.watchdog-status.v1")
        .Register<Cluster.NodeApiAddress.Get>("node.msg.get-api-address.v1")
        .Register<Cluster.NodeApiAddress.Answer>("node.msg.api-address.v1");

    /// <summary>v1 stored the delay as .NET time span text (<c>"00:00:02"</c>); v2 as whole milliseconds.</summary>
    private static JsonObject DelayAsMilliseconds(JsonObject v1)
    {
        var delay = TimeSpan.Parse(v1["delay"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        v1.Remove("delay");
        v1["delayMs"] = delay.TotalMilliseconds;
        return v1;
    }
}
