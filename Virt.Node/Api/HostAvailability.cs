using Virt.Actors.Balancer;

namespace Virt.Node.Api;

/// <summary>
/// The hosts as the balancer last heard from their agents, for the API's "is the libvirt this command needs
/// reachable?" check. Asking the balancer singleton on every command put it on every command's path (a remote hop
/// on most nodes, queued behind its planning), so an answer in which every host is reachable is reused for
/// <see cref="Fresh"/>; one with an unreachable host is never reused, so a host that comes back is seen at once.
/// Agents report every virt.node.report-interval (2 s) anyway: this adds at most a quarter second to that.
/// </summary>
internal sealed class HostAvailability(ApiContext api)
{
    private static readonly TimeSpan Fresh = TimeSpan.FromMilliseconds(250);
    private readonly object _gate = new();
    private (BalancerProtocol.Hosts Hosts, DateTimeOffset At)? _allReachable;
    private Task<BalancerProtocol.Hosts>? _asking;

    public Task<BalancerProtocol.Hosts> Get()
    {
        lock (_gate)
        {
            if (_allReachable is { } cached && api.Now - cached.At < Fresh)
                return Task.FromResult(cached.Hosts);
            return _asking ??= Ask(); // concurrent commands share one question
        }
    }

    private async Task<BalancerProtocol.Hosts> Ask()
    {
        try
        {
            var hosts = await api.Ask<BalancerProtocol.Hosts>(api.Balancer, new BalancerProtocol.GetHosts());
            lock (_gate)
                _allReachable = hosts.Reports.Count > 0 && hosts.Reports.All(h => h.Available) ? (hosts, api.Now) : null;
            return hosts;
        }
        finally
        {
            lock (_gate)
                _asking = null;
        }
    }
}
