using Akka.Cluster;
using Akka.Cluster.Sharding;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Index;
using Virt.Actors.Vm;
using Virt.Node.Agent;

namespace Virt.Node.Api;

/// <summary>/v1/node (this host: libvirt health, capacity, every libvirt domain, which of them Virt does not manage) and /v1/health.</summary>
internal static class NodeEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/node", Show);
        app.MapGet("/v1/health", Health);
    }

    private static async Task<IResult> Show(ApiContext api)
    {
        var status = await api.Ask<NodeStatus>(api.Agent, new GetNodeStatus());
        var listing = await api.Ask<VmIndexProtocol.Listing>(api.Index, new VmIndexProtocol.List());
        var vms = listing.Vms;
        var known = vms.ToDictionary(v => v.Spec!.Name, v => v.Spec!.Uuid.ToString(), StringComparer.Ordinal);
        var unknown = status.Domains.Where(d => !known.TryGetValue(d.Name, out var uuid) || !uuid.Equals(d.Uuid, StringComparison.OrdinalIgnoreCase)).ToList();
        var here = vms.Where(v => v.OnHost && v.Node == api.NodeName).ToList();
        return Results.Json(new
        {
            status.Name,
            status.Uri,
            status.Healthy,
            status.Error,
            status.Since,
            status.Driver,
            status.CpuModel,
            status.Cpus,
            MemoryMib = status.MemoryBytes >> 20,
            status.ReconnectAttempts,
            Vms = vms.Count,
            Running = vms.Count(v => v.Phase == VmPhase.Running),
            Failed = vms.Count(v => v.Phase == VmPhase.Failed),
            AllocatedVcpus = here.Sum(v => v.Spec!.Vcpus),
            AllocatedMemoryMib = here.Sum(v => v.Spec!.MemoryMib),
            UnknownDomains = unknown,
            status.Domains,
        }, ApiJson.Options);
    }

    /// <summary>
    /// 200 when this node is ready: libvirt connected, a member of the cluster, the VM index current, and every VM
    /// the journal knows has its entity started (remember-entities brings them back after a restart).
    /// </summary>
    private static async Task<IResult> Health(ApiContext api)
    {
        var health = await api.Ask<Health>(api.Agent, new GetHealth());
        var index = await api.Ask<VmIndexProtocol.Status>(api.Index, new VmIndexProtocol.GetStatus());
        var member = Cluster.Get(api.System).SelfMember.Status;
        var entities = await Entities(api);
        var joined = member == MemberStatus.Up;
        var vmsReady = index.Ready && entities >= index.Vms;
        var ok = health.Healthy && vmsReady && joined;
        return Results.Json(new
        {
            Status = ok ? "ok" : "degraded",
            Libvirt = health.Healthy,
            health.Error,
            VmsReady = vmsReady,
            Recovering = Math.Max(0, index.Vms - entities),
            Cluster = member.ToString().ToLowerInvariant(),
            ClusterError = joined ? null : $"this node is {member.ToString().ToLowerInvariant()} in the cluster, not up",
        }, ApiJson.Options, statusCode: ok ? 200 : 503);
    }

    /// <summary>
    /// VM entities started: this node's region alone when it is the only member; else every region's (the entities
    /// live all over the cluster, so this node's share says nothing about whether the others are back).
    /// </summary>
    private static async Task<int> Entities(ApiContext api)
    {
        if (Cluster.Get(api.System).State.Members.Count(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp) <= 1)
            return (await api.Ask<CurrentShardRegionState>(api.Vms, GetShardRegionState.Instance)).Shards.Sum(s => s.EntityIds.Count);
        var stats = await api.ShardingStats();
        return stats.Regions.Values.Sum(r => r.Stats.Values.Sum());
    }
}
