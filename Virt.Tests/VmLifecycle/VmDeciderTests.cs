using Virt.Actors.Fsm;
using Virt.Actors.Vm;
using C = Virt.Actors.Vm.VmCommand;

namespace Virt.Tests.VmLifecycle;

public sealed class VmDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly VmDefaults Defaults = new()
    {
        StopTimeout = TimeSpan.FromSeconds(60), StartTimeout = TimeSpan.FromSeconds(120), MaxRestarts = 3,
        RestartWindow = TimeSpan.FromMinutes(10), RestartBackoff = TimeSpan.FromSeconds(1), RestartBackoffMax = TimeSpan.FromSeconds(30),
    };

    private static VmSpec Spec(RestartPolicy policy = RestartPolicy.Always) =>
        new("web-1", Guid.Parse("8f2a3c1e-0000-4000-8000-000000000001"), 2, 2048, [], [], policy);

    private static InMemoryDecider<VmState, C, VmEvent> Vm(RestartPolicy policy = RestartPolicy.Always)
    {
        var vm = new InMemoryDecider<VmState, C, VmEvent>(new VmDecider(Defaults), T0);
        Assert.IsType<Decision<VmEvent>.Accepted>(vm.Send(new C.Define(Spec(policy))));
        return vm;
    }

    /// <summary>Plays the balancer: the placing VM goes to <paramref name="node"/>.</summary>
    private static void Placed(InMemoryDecider<VmState, C, VmEvent> vm, string node = "hv-1")
    {
        Assert.Equal(VmPhase.Placing, vm.State.Phase);
        vm.Send(new C.Placed(vm.State.Op, node));
        Assert.Equal(VmPhase.Starting, vm.State.Phase);
    }

    private static void Start(InMemoryDecider<VmState, C, VmEvent> vm)
    {
        vm.Send(new C.Start());
        Placed(vm);
    }

    private static InMemoryDecider<VmState, C, VmEvent> Running(RestartPolicy policy = RestartPolicy.Always)
    {
        var vm = Vm(policy);
        Start(vm);
        vm.Send(new C.StartDone(vm.State.Op));
        Assert.Equal(VmPhase.Running, vm.State.Phase);
        return vm;
    }

    private static string Rejected(Decision<VmEvent> d) => Assert.IsType<Decision<VmEvent>.Rejected>(d).Reason;

    [Fact]
    public void Define_then_start_reaches_running_through_starting()
    {
        var vm = Vm();
        Assert.Equal((VmPhase.Stopped, PowerState.Stopped), (vm.State.Phase, vm.State.Desired));
        Assert.Equal("VM web-1 already exists", Rejected(vm.Send(new C.Define(Spec()))));

        vm.Send(new C.Start());
        Assert.Equal((VmPhase.Placing, PowerState.Running, (string?)null, 1L), (vm.State.Phase, vm.State.Desired, vm.State.Node, vm.State.Op));
        Assert.Empty(((Decision<VmEvent>.Accepted)vm.Send(new C.Start())).Events); // already on its way
        Assert.Empty(((Decision<VmEvent>.Accepted)vm.Send(new C.Placed(0, "hv-2"))).Events); // an answer to an older op
        vm.Send(new C.Placed(1, "hv-1"));
        Assert.Equal((VmPhase.Starting, "hv-1", 2L), (vm.State.Phase, vm.State.Node, vm.State.Op));
        Assert.Empty(((Decision<VmEvent>.Accepted)vm.Send(new C.StartDone(1))).Events); // an answer to an older op
        vm.Send(new C.StartDone(2));
        Assert.Equal(VmPhase.Running, vm.State.Phase);
        Assert.Empty(((Decision<VmEvent>.Accepted)vm.Send(new C.Start())).Events); // already running: nothing to do
    }

    [Fact]
    public void A_graceful_stop_escalates_to_destroy_exactly_at_the_stop_timeout()
    {
        var vm = Running();
        vm.Send(new C.Stop());
        Assert.Equal((VmPhase.Stopping, StopMode.Graceful, PowerState.Stopped), (vm.State.Phase, vm.State.StopMode, vm.State.Desired));
        var op = vm.State.Op;

        Assert.Empty(vm.Advance(TimeSpan.FromSeconds(60) - TimeSpan.FromTicks(1)));
        var escalated = Assert.Single(vm.Advance(TimeSpan.FromTicks(1)));
        Assert.IsType<VmEvent.StopEscalated>(Assert.Single(((Decision<VmEvent>.Accepted)escalated).Events));
        Assert.Equal((StopMode.Force, op + 1), (vm.State.StopMode, vm.State.Op));

        vm.Send(new C.StopDone(op + 1));
        Assert.Equal((VmPhase.Stopped, (string?)null), (vm.State.Phase, vm.State.Node));
        Assert.Null(vm.TimeoutDue);
    }

    [Fact]
    public void A_stop_that_completes_in_time_cancels_the_escalation()
    {
        var vm = Running();
        vm.Send(new C.Stop());
        vm.Send(new C.DomainStopped("shutdown"));
        Assert.Equal(VmPhase.Stopped, vm.State.Phase);
        Assert.Empty(vm.Advance(TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Crashes_restart_with_doubling_backoff_until_the_window_is_spent_then_Failed_with_reasons()
    {
        var vm = Running();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            vm.Send(new C.DomainStopped("crashed"));
            Assert.Equal(VmPhase.Recovering, vm.State.Phase);
            var backoff = TimeSpan.FromSeconds(Math.Pow(2, attempt - 1));
            Assert.Equal(backoff, vm.State.RetryDelay);
            Assert.Empty(vm.Advance(backoff - TimeSpan.FromTicks(1)));
            vm.Advance(TimeSpan.FromTicks(1));
            Placed(vm);
            vm.Send(new C.StartDone(vm.State.Op));
            Assert.Equal(VmPhase.Running, vm.State.Phase);
        }

        vm.Send(new C.DomainStopped("crashed"));
        Assert.Equal(VmPhase.Failed, vm.State.Phase);
        Assert.Equal(4, vm.State.FailureReasons.Count(r => r.Contains("crashed")));
        Assert.Contains("gave up: the 3 restart(s) allowed within 600 s were used", vm.State.FailureReasons[^1]);
        Assert.Contains("clear-failures", Rejected(vm.Send(new C.Start())));
    }

    [Fact]
    public void Restarts_older_than_the_window_are_forgotten()
    {
        var vm = Running();
        for (var i = 0; i < 6; i++)
        {
            vm.Send(new C.DomainStopped("destroyed"));
            Assert.Equal(VmPhase.Recovering, vm.State.Phase);
            vm.Advance(TimeSpan.FromSeconds(30)); // the backoff passes
            Placed(vm);
            vm.Send(new C.StartDone(vm.State.Op));
            vm.Advance(TimeSpan.FromSeconds(210)); // each crash 4 min after the last: at most 3 in 10 min
        }

        Assert.Equal(VmPhase.Running, vm.State.Phase);
        Assert.True(vm.State.Restarts.Count <= 3);
    }

    [Fact]
    public void Policy_never_leaves_a_crashed_vm_stopped_and_on_failure_respects_a_clean_guest_shutdown()
    {
        var never = Running(RestartPolicy.Never);
        never.Send(new C.DomainStopped("crashed"));
        Assert.Equal((VmPhase.Stopped, PowerState.Stopped), (never.State.Phase, never.State.Desired));

        var onFailure = Running(RestartPolicy.OnFailure);
        onFailure.Send(new C.DomainStopped("shutdown"));
        Assert.Equal((VmPhase.Stopped, PowerState.Stopped), (onFailure.State.Phase, onFailure.State.Desired));
        Start(onFailure);
        onFailure.Send(new C.StartDone(onFailure.State.Op));
        onFailure.Send(new C.DomainStopped("crashed"));
        Assert.Equal(VmPhase.Recovering, onFailure.State.Phase);

        var always = Running(RestartPolicy.Always);
        always.Send(new C.DomainStopped("shutdown"));
        Assert.Equal(VmPhase.Recovering, always.State.Phase);
    }

    [Fact]
    public void A_refused_start_is_retried_under_the_policy_and_fails_at_once_under_never()
    {
        var vm = Vm();
        Start(vm);
        vm.Send(new C.StartRefused(vm.State.Op, "cannot open /img/disk.qcow2"));
        Assert.Equal((VmPhase.Recovering, "cannot open /img/disk.qcow2"), (vm.State.Phase, vm.State.LastError));

        var never = Vm(RestartPolicy.Never);
        Start(never);
        never.Send(new C.StartRefused(never.State.Op, "no such bridge br9"));
        Assert.Equal(VmPhase.Failed, never.State.Phase);
        Assert.Contains("start failed: no such bridge br9", never.State.FailureReasons[^1]);
    }

    [Fact]
    public void A_start_that_hangs_times_out_into_the_failure_path()
    {
        var vm = Vm();
        Start(vm);
        vm.Advance(TimeSpan.FromSeconds(120));
        Assert.Equal(VmPhase.Recovering, vm.State.Phase);
        Assert.Equal("did not start within 120 s", vm.State.LastError);
    }

    [Fact]
    public void Clear_failures_restarts_a_failed_vm_that_should_run()
    {
        var vm = Running();
        for (var i = 0; i < 4; i++)
        {
            vm.Send(new C.DomainStopped("crashed"));
            vm.Advance(TimeSpan.FromSeconds(30));
            if (vm.State.Phase == VmPhase.Placing)
                Placed(vm);
            vm.Send(new C.StartDone(vm.State.Op));
        }

        Assert.Equal(VmPhase.Failed, vm.State.Phase);
        vm.Send(new C.ClearFailures());
        Assert.Equal((VmPhase.Placing, 0, 0), (vm.State.Phase, vm.State.Restarts.Count, vm.State.FailureReasons.Count));
    }

    [Fact]
    public void Delete_refuses_a_running_vm_unless_forced_and_force_stops_first()
    {
        var vm = Running();
        Assert.Equal("it is running; stop it first, or delete with --force to stop and delete", Rejected(vm.Send(new C.Delete())));
        vm.Send(new C.Delete(Force: true));
        Assert.Equal((VmPhase.Stopping, StopMode.Force, AfterStop.Delete), (vm.State.Phase, vm.State.StopMode, vm.State.Then));
        vm.Send(new C.StopDone(vm.State.Op));
        Assert.Equal(VmPhase.Deleted, vm.State.Phase);
        Assert.Equal("VM does not exist", Rejected(vm.Send(new C.Start())));
        Assert.IsType<Decision<VmEvent>.Accepted>(vm.Send(new C.Define(Spec()))); // the name can be used again
    }

    [Fact]
    public void Restart_stops_then_starts()
    {
        var vm = Running();
        vm.Send(new C.Restart());
        Assert.Equal((VmPhase.Stopping, AfterStop.Start, PowerState.Running), (vm.State.Phase, vm.State.Then, vm.State.Desired));
        vm.Send(new C.DomainStopped("shutdown"));
        Placed(vm);
        Assert.Empty(vm.State.Restarts); // asked for, not automatic
    }

    [Fact]
    public void A_stopped_vms_spec_changes_at_once_and_keeps_its_uuid()
    {
        var vm = Vm();
        vm.Send(new C.UpdateSpec(Spec() with { Vcpus = 4, MemoryMib = 8192 }));
        Assert.Equal((4, 8192L), (vm.State.Spec!.Vcpus, vm.State.Spec.MemoryMib));
        Assert.Null(vm.State.PendingSpec);
        Assert.Equal("the uuid of a VM cannot change", Rejected(vm.Send(new C.UpdateSpec(Spec() with { Uuid = Guid.NewGuid() }))));
        Assert.Empty(Assert.IsType<Decision<VmEvent>.Accepted>(vm.Send(new C.UpdateSpec(Spec() with { Vcpus = 4, MemoryMib = 8192 }))).Events); // the same spec: nothing stored
    }

    [Fact]
    public void A_spec_change_made_on_a_version_is_refused_once_the_spec_is_another_and_nothing_is_stored()
    {
        var vm = Vm();
        var read = VmSpec.Version(vm.State.Spec!);
        vm.Send(new C.UpdateSpec(Spec() with { MemoryMib = 4096 })); // someone else's change, made without a version
        var refused = Rejected(vm.Send(new C.UpdateSpec(Spec() with { Vcpus = 8 }, read)));
        Assert.Equal($"its spec changed since version {read} was read; it is now version {VmSpec.Version(vm.State.Spec!)}", refused);
        Assert.Equal((2, 4096L), (vm.State.Spec!.Vcpus, vm.State.Spec.MemoryMib));

        vm.Send(new C.UpdateSpec(Spec() with { Vcpus = 8, MemoryMib = 4096 }, VmSpec.Version(vm.State.Spec!))); // made on the spec as it is
        Assert.Equal((8, 4096L), (vm.State.Spec!.Vcpus, vm.State.Spec.MemoryMib));
        Assert.NotEqual(read, VmSpec.Version(vm.State.Spec!));
        Assert.Equal(VmSpec.Version(vm.State.Spec!), VmSpec.Version(Spec() with { Vcpus = 8, MemoryMib = 4096 })); // the version is the content's, not the object's
    }

    [Fact]
    public void A_running_vms_new_machine_waits_for_its_next_start_and_the_placement_asks_for_the_new_size()
    {
        var vm = Running();
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        vm.Send(new C.UpdateSpec(Spec() with { Vcpus = 4, MemoryMib = 8192, Priority = 7, Labels = labels }));
        Assert.Equal(VmPhase.Running, vm.State.Phase);
        Assert.Equal((2, 2048L), (vm.State.Spec!.Vcpus, vm.State.Spec.MemoryMib)); // what runs, and what the balancer counts on its host
        Assert.Equal((7, "web"), (vm.State.Spec.Priority, vm.State.Spec.Labels!["app"])); // policy and labels at once
        Assert.Equal((4, 8192L), (vm.State.PendingSpec!.Vcpus, vm.State.PendingSpec.MemoryMib));

        vm.Send(new C.Restart());
        vm.Send(new C.StopDone(vm.State.Op));
        Assert.Equal(VmPhase.Placing, vm.State.Phase);
        Assert.Equal((4, 8192L, 7), (vm.State.Spec!.Vcpus, vm.State.Spec.MemoryMib, vm.State.Spec.Priority));
        Assert.Null(vm.State.PendingSpec);
    }

    [Fact]
    public void A_pending_spec_takes_effect_when_the_vm_stops_and_a_later_change_replaces_it()
    {
        var vm = Running();
        vm.Send(new C.UpdateSpec(Spec() with { MemoryMib = 4096 }));
        vm.Send(new C.UpdateSpec(Spec() with { MemoryMib = 8192 }));
        Assert.Equal(8192L, vm.State.PendingSpec!.MemoryMib);
        Assert.Empty(Assert.IsType<Decision<VmEvent>.Accepted>(vm.Send(new C.UpdateSpec(Spec() with { MemoryMib = 8192 }))).Events); // same as pending
        vm.Send(new C.UpdateSpec(Spec())); // back to what runs: nothing pending any more
        Assert.Null(vm.State.PendingSpec);

        vm.Send(new C.UpdateSpec(Spec() with { MemoryMib = 8192 }));
        vm.Send(new C.DomainStopped("crashed"));
        Assert.Equal(VmPhase.Recovering, vm.State.Phase);
        Assert.Equal(8192L, vm.State.Spec!.MemoryMib); // the automatic restart is placed with the new size
        Assert.Null(vm.State.PendingSpec);
    }

    [Fact]
    public void Events_with_an_idempotency_key_leave_the_latest_keys_in_the_state_also_across_a_delete_and_define()
    {
        var decider = new VmDecider(Defaults);
        var s = decider.Apply(VmState.Absent, new VmEvent.Defined(Spec(), T0) { Request = new RequestStamp("k-0", "f") });
        for (var i = 1; i <= VmState.KeptRequests + 5; i++)
            s = decider.Apply(s, new VmEvent.FailuresCleared(T0) { Request = new RequestStamp($"k-{i}", "f") });
        Assert.Equal(VmState.KeptRequests, s.Requests.Count);
        Assert.Equal(($"k-{VmState.KeptRequests + 5}", "k-6"), (s.Requests[^1].Key, s.Requests[0].Key)); // the oldest went first
        s = decider.Apply(decider.Apply(s, new VmEvent.Deleted(T0)), new VmEvent.Defined(Spec(), T0));
        Assert.Contains(s.Requests, r => r.Key == "k-9"); // a retry of a command before the delete is still recognised
    }

    [Fact]
    public void A_policy_only_change_of_a_running_vm_leaves_nothing_pending()
    {
        var vm = Running();
        vm.Send(new C.UpdateSpec(Spec(RestartPolicy.Never)));
        Assert.Equal(RestartPolicy.Never, vm.State.Spec!.Restart);
        Assert.Null(vm.State.PendingSpec);
        vm.Send(new C.DomainStopped("crashed"));
        Assert.Equal(VmPhase.Stopped, vm.State.Phase); // the new policy decided
    }

    [Fact]
    public void A_stop_event_while_starting_is_ignored_the_start_result_decides()
    {
        var vm = Vm();
        Start(vm);
        Assert.Empty(((Decision<VmEvent>.Accepted)vm.Send(new C.DomainStopped("destroyed"))).Events);
        Assert.Equal(VmPhase.Starting, vm.State.Phase);
    }

    [Fact]
    public void A_domain_running_behind_virts_back_is_stopped_when_it_should_be_stopped()
    {
        var vm = Vm();
        vm.Send(new C.DomainRunning("hv-1"));
        Assert.Equal((VmPhase.Stopping, StopMode.Graceful), (vm.State.Phase, vm.State.StopMode));
    }

    [Theory]
    [InlineData(VmPhase.Running, false, VmPhase.Placing)] // desired running, found stopped: place and start (a restart)
    [InlineData(VmPhase.Starting, true, VmPhase.Running)]
    [InlineData(VmPhase.Starting, false, VmPhase.Starting)]
    [InlineData(VmPhase.Stopping, false, VmPhase.Stopped)]
    [InlineData(VmPhase.Stopping, true, VmPhase.Stopping)]
    [InlineData(VmPhase.Stopped, true, VmPhase.Stopping)] // desired stopped, found running: stop
    [InlineData(VmPhase.Stopped, false, VmPhase.Stopped)]
    public void Reconciliation_at_start_up_brings_journal_and_libvirt_together(VmPhase before, bool running, VmPhase after)
    {
        var vm = Vm();
        switch (before)
        {
            case VmPhase.Running:
                Start(vm);
                vm.Send(new C.StartDone(vm.State.Op));
                break;
            case VmPhase.Starting:
                Start(vm);
                break;
            case VmPhase.Stopping:
                Start(vm);
                vm.Send(new C.StartDone(vm.State.Op));
                vm.Send(new C.Stop());
                break;
        }

        var op = vm.State.Op;
        vm.Send(new C.Observed(true, running, "hv-1"));
        Assert.Equal(after, vm.State.Phase);
        if (before == VmPhase.Running)
            Assert.Single(vm.State.Restarts);
        if (after != before || before == VmPhase.Starting && !running)
            Assert.True(vm.State.Op >= op);
    }

    [Fact]
    public void Reconciliation_counts_restarts_and_fails_when_the_window_is_spent()
    {
        var vm = Running();
        for (var i = 0; i < 3; i++)
        {
            vm.Send(new C.Observed(true, false, "hv-1"));
            Placed(vm);
            vm.Send(new C.StartDone(vm.State.Op));
        }

        vm.Send(new C.Observed(true, false, "hv-1"));
        Assert.Equal(VmPhase.Failed, vm.State.Phase);
    }

    [Fact]
    public void An_operators_start_that_no_host_can_take_is_refused_and_the_vm_stays_stopped()
    {
        var vm = Vm();
        vm.Send(new C.Start());
        vm.Send(new C.PlacementRefused(vm.State.Op, "hv-1: memory needs 2048 MiB, 1024 free"));
        Assert.Equal((VmPhase.Stopped, PowerState.Stopped), (vm.State.Phase, vm.State.Desired));
        Assert.Equal("no host can run it: hv-1: memory needs 2048 MiB, 1024 free", vm.State.LastError);
        Assert.Null(vm.TimeoutDue); // nothing retries an operator's start
    }

    [Fact]
    public void An_automatic_restart_that_no_host_can_take_waits_and_tries_again()
    {
        var vm = Running();
        vm.Send(new C.DomainStopped("crashed"));
        vm.Advance(vm.State.RetryDelay);
        Assert.Equal(VmPhase.Placing, vm.State.Phase);
        vm.Send(new C.PlacementRefused(vm.State.Op, "hv-1: libvirt is unreachable there"));
        Assert.Equal((VmPhase.Recovering, PowerState.Running), (vm.State.Phase, vm.State.Desired));
        Assert.Contains("libvirt is unreachable", vm.State.LastError);

        Assert.Empty(vm.Advance(Defaults.PlacementRetry - TimeSpan.FromTicks(1)));
        vm.Advance(TimeSpan.FromTicks(1));
        Placed(vm, "hv-2");
        Assert.Equal("hv-2", vm.State.Node);
    }

    [Fact]
    public void A_stop_while_placing_gives_the_start_up_and_a_late_placement_is_ignored()
    {
        var vm = Vm();
        vm.Send(new C.Start());
        var op = vm.State.Op;
        vm.Send(new C.Stop());
        Assert.Equal((VmPhase.Stopped, PowerState.Stopped), (vm.State.Phase, vm.State.Desired));
        Assert.Empty(((Decision<VmEvent>.Accepted)vm.Send(new C.Placed(op, "hv-1"))).Events);
        Assert.Equal(VmPhase.Stopped, vm.State.Phase);
    }

    [Fact]
    public void A_vm_found_stopped_under_a_new_boot_of_its_host_says_the_host_restarted()
    {
        var vm = Vm();
        Start(vm);
        vm.Send(new C.StartDone(vm.State.Op, HostBoot: "boot-1"));
        Assert.Equal("boot-1", vm.State.HostBoot);

        var decision = Assert.IsType<Decision<VmEvent>.Accepted>(vm.Send(new C.Observed(false, false, "hv-1", HostBoot: "boot-2")));
        var placing = Assert.IsType<VmEvent.PlacementRequested>(Assert.Single(decision.Events));
        Assert.StartsWith("host hv-1 restarted", placing.Why);
        Assert.True(placing.CountsAsRestart); // honest: the VM did stop

        var same = Vm();
        Start(same);
        same.Send(new C.StartDone(same.State.Op, HostBoot: "boot-1"));
        var plain = (VmEvent.PlacementRequested)((Decision<VmEvent>.Accepted)same.Send(new C.Observed(true, false, "hv-1", HostBoot: "boot-1"))).Events.Single();
        Assert.StartsWith("found stopped when virt-node started", plain.Why);
    }

    [Fact]
    public void A_domain_found_running_while_placing_is_adopted_where_it_runs()
    {
        var vm = Vm();
        vm.Send(new C.Start());
        vm.Send(new C.Observed(true, true, "hv-3"));
        Assert.Equal((VmPhase.Running, "hv-3"), (vm.State.Phase, vm.State.Node));
        Assert.Empty(((Decision<VmEvent>.Accepted)vm.Send(new C.Placed(vm.State.Op, "hv-1"))).Events); // never a second copy
    }
}
