using Virt.Actors.Fsm;
using Virt.Actors.Vm;
using C = Virt.Actors.Vm.VmCommand;

namespace Virt.Tests.VmLifecycle;

/// <summary>
/// The readiness half of the VM lifecycle, pure: a VM without a check is ready as soon as it runs; one with a check is
/// ready only when the agent saw its guest pass it, for this run; its timeout reports it exactly at the timeout
/// (a late ready still counts), and a new run waits again.
/// </summary>
public sealed class ReadinessDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly VmDefaults Defaults = new() { ReadyTimeout = TimeSpan.FromSeconds(60) };

    private static VmSpec Spec(ReadinessSpec? readiness) =>
        new("db-1", Guid.Parse("8f2a3c1e-0000-4000-8000-000000000002"), 1, 512, [], [], Readiness: readiness);

    private static InMemoryDecider<VmState, C, VmEvent> Running(ReadinessSpec? readiness)
    {
        var vm = new InMemoryDecider<VmState, C, VmEvent>(new VmDecider(Defaults), T0);
        vm.Send(new C.Define(Spec(readiness)));
        vm.Send(new C.Start());
        vm.Send(new C.Placed(vm.State.Op, "hv-1"));
        vm.Send(new C.StartDone(vm.State.Op));
        Assert.Equal(VmPhase.Running, vm.State.Phase);
        return vm;
    }

    private static IReadOnlyList<VmEvent> Events(Decision<VmEvent> d) => Assert.IsType<Decision<VmEvent>.Accepted>(d).Events;

    [Fact]
    public void Without_a_check_a_running_vm_is_ready_at_once_and_has_no_ready_timeout()
    {
        var vm = Running(null);
        Assert.True(vm.State.IsReady);
        Assert.Equal(vm.Now, vm.State.ReadySince);
        Assert.Null(vm.TimeoutDue);
        Assert.StartsWith("ready since 2026-03-01 12:00:00Z", VmView.Of(vm.State, Defaults, vm.Now).Readiness);

        var none = Running(new ReadinessSpec(ReadinessKind.None));
        Assert.True(none.State.IsReady);
    }

    [Fact]
    public void With_a_check_it_is_ready_only_when_the_guest_of_this_run_passed_it()
    {
        var vm = Running(new ReadinessSpec(ReadinessKind.VirtioSignal));
        Assert.False(vm.State.IsReady);
        Assert.True(vm.State.AwaitingReady);
        vm.Advance(TimeSpan.FromSeconds(12));
        var view = VmView.Of(vm.State, Defaults, vm.Now);
        Assert.Equal((false, "waiting for ready (virtio-signal, 12 s of 60 s timeout)"), (view.Ready, view.Readiness));

        Assert.Empty(Events(vm.Send(new C.GuestReady(vm.State.Op - 1, "virtio-signal: 'ready old' acknowledged")))); // an earlier run's guest
        Assert.False(vm.State.IsReady);

        var ready = Assert.IsType<VmEvent.Ready>(Assert.Single(Events(vm.Send(new C.GuestReady(vm.State.Op, "virtio-signal: 'ready 7f3a' acknowledged")))));
        Assert.Equal(vm.Now, ready.At);
        Assert.True(vm.State.IsReady);
        Assert.Equal((T0 + TimeSpan.FromSeconds(12), "virtio-signal: 'ready 7f3a' acknowledged"), (vm.State.ReadySince!.Value, vm.State.ReadyEvidence));
        Assert.Null(vm.TimeoutDue); // nothing to wait for any more
        Assert.Empty(Events(vm.Send(new C.GuestReady(vm.State.Op, "virtio-signal: 'ready again' acknowledged")))); // the first one counts
        Assert.Equal("ready since 2026-03-01 12:00:12Z (virtio-signal: 'ready 7f3a' acknowledged)", VmView.Of(vm.State, Defaults, vm.Now).Readiness);
    }

    [Fact]
    public void A_vm_not_ready_by_its_timeout_is_reported_exactly_then_keeps_running_and_a_late_ready_still_counts()
    {
        var vm = Running(new ReadinessSpec(ReadinessKind.Tcp, "10.0.0.5:22", TimeSpan.FromSeconds(30)));
        Assert.Empty(vm.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1)));
        Assert.Null(vm.State.LastError);

        var overdue = Assert.IsType<VmEvent.ReadyOverdue>(Assert.Single(Events(Assert.Single(vm.Advance(TimeSpan.FromTicks(1))))));
        Assert.Equal("not ready within 30 s of its start: nothing accepted a connection on 10.0.0.5:22", overdue.Reason);
        Assert.Equal((VmPhase.Running, false, true), (vm.State.Phase, vm.State.IsReady, vm.State.ReadyOverdue));
        Assert.Equal(overdue.Reason, vm.State.LastError);
        Assert.Null(vm.TimeoutDue); // reported once
        Assert.Empty(vm.Advance(TimeSpan.FromMinutes(10)));
        Assert.StartsWith("not ready: still waiting for ready (tcp) after 630 s, past its 30 s timeout", VmView.Of(vm.State, Defaults, vm.Now).Readiness);

        Assert.IsType<VmEvent.Ready>(Assert.Single(Events(vm.Send(new C.GuestReady(vm.State.Op, "tcp: 10.0.0.5:22 accepted a connection")))));
        Assert.True(vm.State.IsReady);
        Assert.Null(vm.State.LastError);
    }

    [Fact]
    public void The_timeout_is_the_specs_else_the_default_and_each_kind_says_what_was_missing()
    {
        var signal = Running(new ReadinessSpec(ReadinessKind.VirtioSignal));
        Assert.Equal(signal.Now + TimeSpan.FromSeconds(60), signal.TimeoutDue);
        signal.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal("not ready within 60 s of its start: the guest sent no 'ready' line on its startup_signal port", signal.State.LastError);

        var agent = Running(new ReadinessSpec(ReadinessKind.GuestAgent, Timeout: TimeSpan.FromSeconds(5)));
        Assert.Equal(agent.Now + TimeSpan.FromSeconds(5), agent.TimeoutDue);
        agent.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("not ready within 5 s of its start: qemu-guest-agent in the guest did not answer guest-ping", agent.State.LastError);
    }

    [Fact]
    public void A_new_run_waits_again_and_an_answer_for_the_old_run_does_not_make_it_ready()
    {
        var vm = Running(new ReadinessSpec(ReadinessKind.VirtioSignal));
        var first = vm.State.Op;
        vm.Send(new C.GuestReady(first, "virtio-signal: 'ready a' acknowledged"));
        Assert.True(vm.State.IsReady);

        vm.Send(new C.Restart());
        Assert.Equal((VmPhase.Stopping, false), (vm.State.Phase, vm.State.IsReady)); // stopping is not ready
        vm.Send(new C.StopDone(vm.State.Op));
        vm.Send(new C.Placed(vm.State.Op, "hv-1"));
        Assert.Null(vm.State.ReadySince);
        vm.Send(new C.StartDone(vm.State.Op));
        Assert.Equal((VmPhase.Running, false, true), (vm.State.Phase, vm.State.IsReady, vm.State.AwaitingReady));

        Assert.Empty(Events(vm.Send(new C.GuestReady(first, "virtio-signal: 'ready a' acknowledged"))));
        Assert.False(vm.State.IsReady);
        vm.Send(new C.GuestReady(vm.State.Op, "virtio-signal: 'ready b' acknowledged"));
        Assert.True(vm.State.IsReady);
    }

    [Fact]
    public void A_crash_ends_readiness_and_an_unexpected_stop_of_a_waiting_vm_reports_no_timeout_later()
    {
        var vm = Running(new ReadinessSpec(ReadinessKind.VirtioSignal));
        vm.Send(new C.GuestReady(vm.State.Op, "virtio-signal: 'ready a' acknowledged"));
        vm.Send(new C.DomainStopped("crashed"));
        Assert.Equal((VmPhase.Recovering, false, (DateTimeOffset?)null), (vm.State.Phase, vm.State.IsReady, vm.State.ReadySince));

        var waiting = Running(new ReadinessSpec(ReadinessKind.VirtioSignal));
        waiting.Send(new C.Stop(Force: true));
        waiting.Send(new C.StopDone(waiting.State.Op));
        Assert.Equal(VmPhase.Stopped, waiting.State.Phase);
        Assert.Empty(waiting.Advance(TimeSpan.FromMinutes(5)));
        Assert.Null(waiting.State.LastError);
    }

    [Fact]
    public void Changing_the_check_of_a_running_vm_takes_effect_at_its_next_start()
    {
        var vm = Running(null);
        vm.Send(new C.UpdateSpec(Spec(new ReadinessSpec(ReadinessKind.VirtioSignal))));
        Assert.Equal(ReadinessKind.None, vm.State.Spec!.ReadyCheck.Kind); // this run is watched for the check it started with
        Assert.Equal(ReadinessKind.VirtioSignal, vm.State.PendingSpec!.ReadyCheck.Kind);
        Assert.True(vm.State.IsReady);

        var stopped = new InMemoryDecider<VmState, C, VmEvent>(new VmDecider(Defaults), T0);
        stopped.Send(new C.Define(Spec(null)));
        stopped.Send(new C.UpdateSpec(Spec(new ReadinessSpec(ReadinessKind.Tcp, "10.0.0.5:22"))));
        Assert.Equal(ReadinessKind.Tcp, stopped.State.Spec!.ReadyCheck.Kind); // a stopped VM takes it at once
    }
}
