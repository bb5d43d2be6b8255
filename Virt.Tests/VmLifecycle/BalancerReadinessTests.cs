using Virt.Actors.Balancer;

namespace Virt.Tests.VmLifecycle;

/// <summary>
/// When the balancer answers its first placement: not on half a picture. A balancer that just took over and had heard
/// one host of three refused VMs for want of room on the two it had not heard yet.
/// </summary>
public sealed class BalancerReadinessTests
{
    private static readonly HashSet<string> Three = new(["hv-1", "hv-2", "hv-3"], StringComparer.Ordinal);

    [Fact]
    public void Not_before_every_member_host_has_reported()
    {
        Assert.False(BalancerActor.Complete(indexed: true, graceOver: false, Three, []));
        Assert.False(BalancerActor.Complete(indexed: true, graceOver: false, Three, ["hv-3"]));
        Assert.False(BalancerActor.Complete(indexed: true, graceOver: false, Three, ["hv-1", "hv-3"]));
        Assert.True(BalancerActor.Complete(indexed: true, graceOver: false, Three, ["hv-1", "hv-2", "hv-3"]));
    }

    [Fact]
    public void A_report_from_a_host_that_is_not_a_member_does_not_stand_in_for_one_that_is()
    {
        Assert.False(BalancerActor.Complete(indexed: true, graceOver: false, Three, ["hv-1", "hv-2", "hv-9"]));
    }

    [Fact]
    public void Never_before_the_index_is_current_and_after_the_grace_without_every_host()
    {
        Assert.False(BalancerActor.Complete(indexed: false, graceOver: true, Three, ["hv-1", "hv-2", "hv-3"]));
        Assert.True(BalancerActor.Complete(indexed: true, graceOver: true, Three, ["hv-1"]));
        Assert.True(BalancerActor.Complete(indexed: true, graceOver: true, Three, []));
    }
}
