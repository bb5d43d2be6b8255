using Virt.Actors.Balancer;
using Virt.Actors.Vm;

namespace Virt.Tests.VmLifecycle;

public sealed class AdmissionPinTests
{
    [Fact]
    public void Starts_pinned_to_one_host_decided_together_are_all_placed_there()
    {
        var hosts = Enumerable.Range(1, 3).Select(i => new BalancerProtocol.HostReport($"hv-{i}", 8, 8192, new Dictionary<string, string>(), HostState.Up, true)).ToList();
        var picture = new BalancerPicture(hosts, [], [], [], new BalancerOptions(), DateTimeOffset.UnixEpoch);
        var requests = Enumerable.Range(1, 3).Select(i => new BalancerProtocol.PlaceVm($"p{i}", 1, 1, 256, 0, true, "hv-3")).ToList();

        var answers = AdmissionPlan.Decide(requests, picture);

        Assert.All(requests, r => Assert.Equal(("hv-3", (string?)null), answers[r.Vm]));
    }
}
