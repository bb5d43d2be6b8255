using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Virt.Actors.Fencing;
using Virt.Tests.Support;

namespace Virt.Tests.Fence;

/// <summary>
/// The fencer on a real one-node cluster (this node is hv-1) with the in-memory journal and scripted levels: it
/// tries the levels in order and stops at the first that confirms, a level that throws is no fence, it tries again
/// after the retry interval, it tells the balancer, it never fences a member, and its records survive a restart.
/// </summary>
public sealed class FencerActorTests : TestKit
{
    private static readonly Config Cluster = ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.cluster.roles = ["node", "node.hv-1"]
        akka.coordinated-shutdown.run-by-clr-shutdown = off
        """);

    public FencerActorTests()
        : base(Cluster, "fencer")
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == Akka.Cluster.MemberStatus.Up, TimeSpan.FromSeconds(20));
    }

    /// <summary>A level whose answers the test gives, one per call (the last repeats); it records who it was asked to fence.</summary>
    private sealed class ScriptedLevel(string name, params Func<FenceTarget, FenceOutcome>[] answers) : IFenceLevel
    {
        private int _calls;

        public string Name => name;

        public List<FenceTarget> Asked { get; } = [];

        public Task<FenceOutcome> Fence(FenceTarget target, CancellationToken cancellationToken)
        {
            lock (Asked)
                Asked.Add(target);
            return Task.FromResult(answers[Math.Min(Interlocked.Increment(ref _calls) - 1, answers.Length - 1)](target));
        }
    }

    private IActorRef Fencer(IReadOnlyList<IFenceLevel> levels, IActorRef balancer, string name = "fencer") =>
        Sys.ActorOf(FencerActor.Props(new FencerSettings(_ => levels, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5)), balancer), name);

    [Fact]
    public void Levels_run_in_order_until_one_confirms_and_the_balancer_hears_of_the_fence()
    {
        var power = new ScriptedLevel("power", _ => FenceOutcome.NotDone("status still on"));
        var watchdog = new ScriptedLevel("watchdog", t => FenceOutcome.Done($"watchdog of {t.Host} fired"));
        var storage = new ScriptedLevel("storage", _ => throw new InvalidOperationException("never asked"));
        var balancer = CreateTestProbe();
        var fencer = Fencer([power, watchdog, storage], balancer);

        fencer.Tell(new FencerProtocol.HostSeen("hv-9", 5, TimeSpan.FromSeconds(10)));
        fencer.Tell(new FencerProtocol.EnsureFenced("hv-9", 0, "lost"), TestActor); // 0: the incarnation it last reported
        Assert.False(ExpectMsg<FencerProtocol.FenceStatus>().Confirmed);

        var fenced = balancer.FishForMessage<FencerProtocol.FenceStatus>(s => s.Confirmed, TimeSpan.FromSeconds(10));
        Assert.Equal(("hv-9", 5L, "watchdog: watchdog of hv-9 fired"), (fenced.Host, fenced.Incarnation, fenced.Text));
        Assert.Equal(TimeSpan.FromSeconds(10), Assert.Single(watchdog.Asked).Watchdog);
        Assert.Single(power.Asked);
        Assert.Empty(storage.Asked);

        var record = Assert.Single(fencer.Ask<FencerProtocol.Fences>(new FencerProtocol.GetFences()).Result.Records);
        Assert.Equal(("watchdog", 5L), (record.Confirmed!.Level, record.Incarnation));

        fencer.Tell(new FencerProtocol.EnsureFenced("hv-9", 5, "asked again"), TestActor); // known: answered, not fenced again
        Assert.True(ExpectMsg<FencerProtocol.FenceStatus>().Confirmed);
        Assert.Single(watchdog.Asked);
    }

    [Fact]
    public void A_level_that_throws_is_no_fence_and_the_round_is_tried_again_until_one_confirms()
    {
        var power = new ScriptedLevel("power", _ => throw new IOException("agent crashed"), _ => FenceOutcome.Done("off ok, status off"));
        var balancer = CreateTestProbe();
        var fencer = Fencer([power], balancer);

        fencer.Tell(new FencerProtocol.EnsureFenced("hv-7", 3, "lost"), ActorRefs.NoSender);
        var failing = balancer.ExpectMsg<FencerProtocol.FenceStatus>(TimeSpan.FromSeconds(10));
        Assert.False(failing.Confirmed);
        Assert.Contains("the power level failed: agent crashed", failing.Text);
        Assert.True(balancer.ExpectMsg<FencerProtocol.FenceStatus>(TimeSpan.FromSeconds(10)).Confirmed);
        Assert.Equal(2, power.Asked.Count);
    }

    [Fact]
    public void A_member_is_never_confirmed_fenced_by_the_operator_nor_fenced_on_the_balancers_word()
    {
        var power = new ScriptedLevel("power", _ => FenceOutcome.Done("off"));
        var fencer = Fencer([power], CreateTestProbe());

        var refused = fencer.Ask<FencerProtocol.Answer>(new FencerProtocol.ConfirmFenced("hv-1")).Result;
        Assert.Equal((false, true), (refused.Ok, refused.Conflict));
        Assert.Contains("hv-1 is a member of the cluster", refused.Message);

        fencer.Tell(new FencerProtocol.EnsureFenced("hv-1", 0, "its VMs wait for it"), TestActor);
        var status = ExpectMsg<FencerProtocol.FenceStatus>();
        Assert.False(status.Confirmed);
        Assert.Contains("is a member of the cluster", status.Text);
        Assert.Empty(power.Asked);

        var unknown = fencer.Ask<FencerProtocol.Answer>(new FencerProtocol.ConfirmFenced("hv-42")).Result;
        Assert.Equal((false, false), (unknown.Ok, unknown.Conflict));
        Assert.Contains("no host named 'hv-42'", unknown.Message);
    }

    [Fact]
    public void The_operators_confirmation_and_what_hosts_said_survive_a_restart_of_the_fencer()
    {
        var none = new ScriptedLevel("power", _ => FenceOutcome.NotDone("no agent"));
        var balancer = CreateTestProbe();
        var fencer = Fencer([none], balancer, "first");
        fencer.Tell(new FencerProtocol.HostSeen("hv-5", 11, null));
        fencer.Tell(new FencerProtocol.EnsureFenced("hv-5", 11, "lost"), ActorRefs.NoSender);
        Assert.False(balancer.ExpectMsg<FencerProtocol.FenceStatus>(TimeSpan.FromSeconds(10)).Confirmed);

        var confirmed = fencer.Ask<FencerProtocol.Answer>(new FencerProtocol.ConfirmFenced("hv-5")).Result;
        Assert.True(confirmed.Ok, confirmed.Message);
        Assert.Contains("run twice", confirmed.Message);
        balancer.FishForMessage<FencerProtocol.FenceStatus>(s => s.Confirmed && s.Incarnation == 11, TimeSpan.FromSeconds(10));

        Watch(fencer);
        Sys.Stop(fencer);
        ExpectTerminated(fencer);
        var again = Fencer([none], CreateTestProbe(), "second-with-the-same-journal");
        var fences = again.Ask<FencerProtocol.Fences>(new FencerProtocol.GetFences()).Result;
        var record = Assert.Single(fences.Records);
        Assert.Equal(("operator", 11L), (record.Confirmed!.Level, record.Incarnation));
        Assert.Equal(11, Assert.Single(fences.Hosts).Incarnation);
    }
}
