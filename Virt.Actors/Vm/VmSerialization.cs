using Virt.Actors.Persistence;

namespace Virt.Actors.Vm;

/// <summary>Manifests of every VM event and snapshot. Renaming a class is free; changing a manifest needs an upcaster.</summary>
public static class VmSerialization
{
    public static EventSerializer Register(EventSerializer serializer) => serializer
        .Register<VmEvent.Defined>("vm.defined.v1")
        .Register<VmEvent.SpecUpdated>("vm.spec-updated.v1")
        .Register<VmEvent.StartRequested>("vm.start-requested.v1")
        .Register<VmEvent.Started>("vm.started.v1")
        .Register<VmEvent.StartFailed>("vm.start-failed.v1")
        .Register<VmEvent.StopRequested>("vm.stop-requested.v1")
        .Register<VmEvent.StopEscalated>("vm.stop-escalated.v1")
        .Register<VmEvent.Stopped>("vm.stopped.v1")
        .Register<VmEvent.StoppedUnexpectedly>("vm.stopped-unexpectedly.v1")
        .Register<VmEvent.RestartScheduled>("vm.restart-scheduled.v1")
        .Register<VmEvent.Failed>("vm.failed.v1")
        .Register<VmEvent.FailuresCleared>("vm.failures-cleared.v1")
        .Register<VmEvent.DesiredChanged>("vm.desired-changed.v1")
        .Register<VmEvent.Deleted>("vm.deleted.v1")
        .Register<VmState>("vm.state.v1");

    public const string Tag = "vm";

    public const string IdPrefix = "vm-";

    public static string PersistenceId(string name) => IdPrefix + name;
}
