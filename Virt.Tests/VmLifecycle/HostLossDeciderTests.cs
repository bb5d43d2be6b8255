using Virt.Actors.Fsm;
using Virt.Actors.Vm;
using C = Virt.Actors.Vm.VmCommand;

namespace Virt.Tests.VmLifecycle;

/// <summary>A VM whose host is lost: it waits for that host's fence (of that incarnation), then starts elsewhere by its restart policy.</summary>
public sealed class HostLossDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static InMemoryDecider<VmState, C, VmEvent> LostOn(string host, long incarnation, RestartPolicy policy = RestartPolicy.Always)
    {
        var vm = new InMemoryDecider<VmState, C, VmEvent>(new VmDecider(new VmDefaults()), T0);
        vm.Send(new C.Define(new VmSpec("db-1", Guid.NewGuid(), 2, 2048, [], [], policy)));
        vm.Send(new C.Start());
        vm.Send(new C.Placed(vm.State.Op, host));
        vm.Send(new C.StartDone(vm.State.Op));
        Assert.Equal(VmPhase.Running, vm.State.Phase);
        vm.Send(new C.HostLost(host, "lost", incarnation));
        Assert.Equal((VmPhase.Recovering, host, incarnation), (vm.State.Phase, vm.State.AwaitingFence, vm.State.AwaitingIncarnation));
        return vm;
    }

    [Fact]
    public void A_lost_vm_waits_and_refuses_a_start_until_its_hosts_incarnation_is_fenced_then_places_itself_without_spending_a_restart()
    {
        var vm = LostOn("hv-3", 42);
        Assert.Contains("not fenced yet", Assert.IsType<Decision<VmEvent>.Rejected>(vm.Send(new C.Start())).Reason);
        Assert.Null(new VmDecider(new VmDefaults()).TimeoutFor(vm.State)); // no automatic retry while it may still run there

        Assert.Empty(Assert.IsType<Decision<VmEvent>.Accepted>(vm.Send(new C.HostFenced("hv-3", 41, "power: off"))).Events); // an older incarnation's fence
        Assert.Empty(Assert.IsType<Decision<VmEvent>.Accepted>(vm.Send(new C.HostFenced("hv-2", 42, "power: off"))).Events);
        Assert.Equal(VmPhase.Recovering, vm.State.Phase);

        vm.Send(new C.HostFenced("hv-3", 42, "power: off ok, status off"));
        Assert.Equal((VmPhase.Placing, (string?)null, true), (vm.State.Phase, vm.State.AwaitingFence, vm.State.Automatic));
        Assert.Contains("fenced (power: off ok, status off)", vm.State.Why);
        Assert.Empty(vm.State.Restarts);
    }

    [Fact]
    public void The_reason_it_waits_is_recorded_once_per_change_and_a_fence_of_the_host_as_a_whole_frees_it()
    {
        var vm = LostOn("hv-3", 42);
        var first = Assert.IsType<Decision<VmEvent>.Accepted>(vm.Send(new C.FenceWaiting("hv-3", "waiting for fence of hv-3: power: status still on")));
        Assert.Single(first.Events);
        Assert.Empty(Assert.IsType<Decision<VmEvent>.Accepted>(vm.Send(new C.FenceWaiting("hv-3", "waiting for fence of hv-3: power: status still on"))).Events);
        Assert.Equal("waiting for fence of hv-3: power: status still on", vm.State.LastError);

        vm.Send(new C.HostFenced("hv-3", 0, "operator: confirmed"));
        Assert.Equal(VmPhase.Placing, vm.State.Phase);
    }

    [Fact]
    public void Restart_policy_never_stays_stopped_with_the_reason_once_fenced()
    {
        var vm = LostOn("hv-3", 42, RestartPolicy.Never);
        vm.Send(new C.HostFenced("hv-3", 42, "watchdog: 15 s passed"));
        Assert.Equal((VmPhase.Stopped, PowerState.Stopped, (string?)null), (vm.State.Phase, vm.State.Desired, vm.State.AwaitingFence));
    }

    [Fact]
    public void The_hosts_new_incarnation_finding_it_not_running_frees_it_and_finding_it_running_adopts_it()
    {
        var freed = LostOn("hv-3", 42);
        freed.Send(new C.Observed(true, false, "hv-2")); // another host's word is not evidence
        Assert.Equal(VmPhase.Recovering, freed.State.Phase);
        freed.Send(new C.Observed(true, false, "hv-3"));
        Assert.Equal((VmPhase.Placing, (string?)null), (freed.State.Phase, freed.State.AwaitingFence));

        var adopted = LostOn("hv-3", 42);
        adopted.Send(new C.Observed(true, true, "hv-3"));
        Assert.Equal((VmPhase.Running, "hv-3", (string?)null), (adopted.State.Phase, adopted.State.Node, adopted.State.AwaitingFence));
        Assert.Empty(adopted.State.Restarts);
    }
}
