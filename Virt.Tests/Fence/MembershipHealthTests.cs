using Akka.Actor;
using Akka.Cluster;
using Virt.Actors.Fencing;

namespace Virt.Tests.Fence;

/// <summary>The rule a node's watchdog is petted on, over hand-built cluster views (no cluster runs).</summary>
public sealed class MembershipHealthTests
{
    private static UniqueAddress Node(string host) => new(new Address("akka.tcp", "virt", host, 4053), int.Parse(host[3..]));

    private static readonly UniqueAddress Self = Node("hv-1");

    private static MembershipHealth Of(UniqueAddress[] unreachable, params (string Host, MemberStatus Status)[] members) =>
        MembershipHealth.Of(members.ToDictionary(m => Node(m.Host), m => m.Status), unreachable.ToHashSet(), Self);

    private static MembershipHealth Departing(UniqueAddress[] unreachable, params (string Host, MemberStatus Status)[] members) =>
        MembershipHealth.Of(members.ToDictionary(m => Node(m.Host), m => m.Status), unreachable.ToHashSet(), Self, departing: true);

    [Fact]
    public void A_cluster_of_one_that_is_up_is_healthy()
    {
        Assert.Equal(new MembershipHealth(true, "1 of 1 members reachable"), Of([], ("hv-1", MemberStatus.Up)));
        Assert.True(Of([], ("hv-1", MemberStatus.WeaklyUp)).Healthy);
    }

    [Fact]
    public void Three_members_with_one_unreachable_are_a_majority()
    {
        var health = Of([Node("hv-3")], ("hv-1", MemberStatus.Up), ("hv-2", MemberStatus.Up), ("hv-3", MemberStatus.Up));
        Assert.Equal(new MembershipHealth(true, "2 of 3 members reachable"), health);
    }

    [Fact]
    public void Three_members_with_two_unreachable_are_not()
    {
        var health = Of([Node("hv-2"), Node("hv-3")], ("hv-1", MemberStatus.Up), ("hv-2", MemberStatus.Up), ("hv-3", MemberStatus.Up));
        Assert.Equal(new MembershipHealth(false, "2 of 3 members unreachable"), health);
    }

    [Fact]
    public void Half_of_the_members_is_no_majority()
    {
        var health = Of([Node("hv-3"), Node("hv-4")], ("hv-1", MemberStatus.Up), ("hv-2", MemberStatus.Up), ("hv-3", MemberStatus.Up), ("hv-4", MemberStatus.Up));
        Assert.Equal(new MembershipHealth(false, "2 of 4 members unreachable"), health);
    }

    [Fact]
    public void This_node_marked_unreachable_by_others_still_counts_itself()
    {
        var health = Of([Self, Node("hv-3")], ("hv-1", MemberStatus.Up), ("hv-2", MemberStatus.Up), ("hv-3", MemberStatus.Up));
        Assert.Equal(new MembershipHealth(true, "2 of 3 members reachable"), health);
    }

    [Fact]
    public void This_member_down_is_unhealthy_though_every_member_is_reachable()
    {
        Assert.Equal(new MembershipHealth(false, "this member is down"), Of([], ("hv-1", MemberStatus.Down), ("hv-2", MemberStatus.Up)));
        Assert.Equal(new MembershipHealth(false, "this member is down"), Departing([], ("hv-1", MemberStatus.Down), ("hv-2", MemberStatus.Up)));
    }

    [Theory]
    [InlineData(MemberStatus.Joining, "this member is joining, not up yet")]
    [InlineData(MemberStatus.Leaving, "this member is leaving")]
    [InlineData(MemberStatus.Exiting, "this member is exiting")]
    [InlineData(MemberStatus.Removed, "this member is removed")]
    public void This_member_not_up_is_unhealthy(MemberStatus own, string reason) =>
        Assert.Equal(new MembershipHealth(false, reason), Of([], ("hv-1", own), ("hv-2", MemberStatus.Up), ("hv-3", MemberStatus.Up)));

    [Fact]
    public void A_node_that_is_not_a_member_is_unhealthy() =>
        Assert.Equal(new MembershipHealth(false, "this node is not a member (not joined yet, or removed)"), Of([], ("hv-2", MemberStatus.Up)));

    [Theory]
    [InlineData(MemberStatus.Leaving)]
    [InlineData(MemberStatus.Exiting)]
    public void A_member_leaving_on_request_is_healthy_while_the_majority_is_reachable(MemberStatus own)
    {
        Assert.Equal(new MembershipHealth(true, "3 of 3 members reachable"), Departing([], ("hv-1", own), ("hv-2", MemberStatus.Up), ("hv-3", MemberStatus.Up)));
        Assert.Equal(new MembershipHealth(false, "2 of 3 members unreachable"),
            Departing([Node("hv-2"), Node("hv-3")], ("hv-1", own), ("hv-2", MemberStatus.Up), ("hv-3", MemberStatus.Up)));
    }

    [Fact]
    public void A_member_removed_after_leaving_on_request_is_healthy()
    {
        Assert.Equal(new MembershipHealth(true, "this member left the cluster"), Departing([], ("hv-2", MemberStatus.Up)));
        Assert.Equal(new MembershipHealth(true, "this member left the cluster"), Departing([], ("hv-1", MemberStatus.Removed)));
    }

    [Fact]
    public void Down_and_exiting_members_are_not_counted()
    {
        // Counted, the two gone members would make 2 of 4 reachable: no majority.
        var health = Of([Node("hv-3"), Node("hv-4")],
            ("hv-1", MemberStatus.Up), ("hv-2", MemberStatus.Up), ("hv-3", MemberStatus.Down), ("hv-4", MemberStatus.Exiting));
        Assert.Equal(new MembershipHealth(true, "2 of 2 members reachable"), health);
    }

    [Fact]
    public void Joining_and_weakly_up_members_are_not_counted_as_the_split_brain_resolver_does_not()
    {
        // Counted, two members joining on the far side would make this side (2 of 4) lose, though the resolver keeps it.
        var health = Of([Node("hv-3"), Node("hv-4")],
            ("hv-1", MemberStatus.Up), ("hv-2", MemberStatus.Up), ("hv-3", MemberStatus.Joining), ("hv-4", MemberStatus.WeaklyUp), ("hv-5", MemberStatus.Up));
        Assert.Equal(new MembershipHealth(true, "3 of 3 members reachable"), health);
    }

    [Fact]
    public void Leaving_members_still_count()
    {
        var health = Of([Node("hv-2"), Node("hv-3")], ("hv-1", MemberStatus.Up), ("hv-2", MemberStatus.Leaving), ("hv-3", MemberStatus.Leaving));
        Assert.Equal(new MembershipHealth(false, "2 of 3 members unreachable"), health);
    }
}
