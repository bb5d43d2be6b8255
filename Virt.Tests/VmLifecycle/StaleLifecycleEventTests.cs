using Akka.Actor;
using Akka.TestKit;
using Virt.Actors.Balancer;
using Virt.Actors.Vm;
using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>
/// The node agent answers a VM directly, while lifecycle events reach it through the shard region. A restart's own
/// shutdown event can therefore arrive after the answer to the new start; the VM must not take it for a crash. Here
/// probes play the agent and the balancer, so the order is forced rather than hoped for.
/// </summary>
public sealed class StaleLifecycleEventTests : Akka.TestKit.Xunit2.TestKit
{
    private readonly TestProbe _agent;
    private readonly TestProbe _balancer;
    private readonly IActorRef _vm;

    public StaleLifecycleEventTests()
    {
        _agent = CreateTestProbe("agent");
        _balancer = CreateTestProbe("balancer");
        var settings = new VmEntitySettings(new VmDefaults { RestartBackoff = TimeSpan.FromMinutes(5) }, 100, new FixedNodeAgents(_agent), _balancer, "n1");
        _vm = Sys.ActorOf(VmEntity.Props("web-1", settings), "web-1");
        _vm.Tell(new VmProtocol.Command("web-1", new VmCommand.Define(new VmSpec("web-1", Guid.NewGuid(), 1, 1024, [], []))));
        Assert.True(ExpectMsg<VmProtocol.Result>().Accepted);
    }

    private VmProtocol.Result Command(VmCommand command)
    {
        _vm.Tell(new VmProtocol.Command("web-1", command));
        return ExpectMsg<VmProtocol.Result>();
    }

    /// <summary>Plays the balancer: the next placement request is answered with host n1.</summary>
    private void Place()
    {
        var request = _balancer.ExpectMsg<BalancerProtocol.PlaceVm>();
        _balancer.Reply(new BalancerProtocol.Placement(request.Vm, request.Op, "n1", null));
    }

    /// <summary>Plays the agent: takes the next request of type <typeparamref name="T"/> and answers it as done.</summary>
    private void Answer<T>(long seen, bool stoppedNow = false)
        where T : DomainRequest
    {
        var request = _agent.ExpectMsg<T>();
        var kind = request is StartDomain ? "start" : "stop";
        _agent.Reply(new DomainRequestDone("web-1", request.Op, kind, DomainOutcome.Done, "n1", StoppedNow: stoppedNow, Seen: seen));
    }

    private VmView View()
    {
        _vm.Tell(new VmProtocol.Get("web-1"));
        return ExpectMsg<VmView>();
    }

    private void AwaitPhase(VmPhase phase) => AwaitAssert(() => Assert.Equal(phase, View().State), TimeSpan.FromSeconds(10));

    private void Run()
    {
        _vm.Tell(new VmProtocol.Command("web-1", new VmCommand.Start()));
        Place();
        Assert.Equal(VmPhase.Starting, ExpectMsg<VmProtocol.Result>().Phase); // answered once placed
        Answer<StartDomain>(seen: 1);
        AwaitPhase(VmPhase.Running);
    }

    [Fact]
    public void A_restarts_own_shutdown_event_arriving_after_the_new_start_is_not_a_crash()
    {
        Run();
        Assert.Equal(VmPhase.Stopping, Command(new VmCommand.Restart()).Phase);
        Answer<StopDomain>(seen: 2, stoppedNow: true);
        Place();
        Answer<StartDomain>(seen: 3);
        AwaitPhase(VmPhase.Running);

        // The shutdown the restart caused, verified by the agent before the new start: seen 2.
        _vm.Tell(new DomainStateChanged("web-1", false, "shutdown", "n1", Seen: 2));
        // A start of a running VM changes nothing, and its answer comes after the VM handled the event.
        var result = Command(new VmCommand.Start());
        Assert.Equal((VmPhase.Running, 0, 0), (result.Phase, result.View!.RestartsInWindow, result.Events));
        _agent.ExpectNoMsg(TimeSpan.Zero); // anything it caused would have been sent before that answer
        _balancer.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void A_crash_seen_after_the_last_answer_is_a_crash()
    {
        Run();
        _vm.Tell(new DomainStateChanged("web-1", false, "destroyed", "n1", Seen: 2));
        AwaitPhase(VmPhase.Recovering);
        var view = View();
        Assert.Equal(1, view.RestartsInWindow);
        Assert.Contains("killed outside Virt", view.FailureReasons[^1]);
    }
}
