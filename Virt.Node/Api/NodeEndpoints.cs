using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Cluster;
using Virt.Actors.Runtime;
using Virt.Actors.Vm;
using Virt.Node.Agent;
using Virt.Node.Hosting;

namespace Virt.Node.Api;

/// <summary>/v1/node (this host: libvirt health, capacity, every libvirt domain, which of them Virt does not manage) and /v1/health.</summary>
internal static class NodeEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/node", Show);
        app.MapGet("/v1/health", Health);
    }

    private static async Task<IResult> Show(NodeRuntime rt)
    {
        var status = await rt.Agent.Ask<NodeStatus>(new GetNodeStatus(), rt.Timeout);
        var vms = await rt.Directory.Ask<object>(new VmProtocol.ListVms(), rt.Timeout) as List<VmView> ?? [];
        var known = vms.ToDictionary(v => v.Name, v => v.Spec.Uuid.ToString(), StringComparer.Ordinal);
        var unknown = status.Domains.Where(d => !known.TryGetValue(d.Name, out var uuid) || !uuid.Equals(d.Uuid, StringComparison.OrdinalIgnoreCase)).ToList();
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
            Running = vms.Count(v => v.State == VmPhase.Running),
            Failed = vms.Count(v => v.State == VmPhase.Failed),
            AllocatedVcpus = vms.Where(v => v.State is VmPhase.Running or VmPhase.Starting).Sum(v => v.Spec.Vcpus),
            AllocatedMemoryMib = vms.Where(v => v.State is VmPhase.Running or VmPhase.Starting).Sum(v => v.Spec.MemoryMib),
            UnknownDomains = unknown,
            status.Domains,
        }, ApiJson.Options);
    }

    private static async Task<IResult> Health(NodeRuntime rt)
    {
        var health = await rt.Agent.Ask<Health>(new GetHealth(), rt.Timeout);
        var directory = await rt.Directory.Ask<VmProtocol.Status>(new VmProtocol.GetStatus(), rt.Timeout);
        var cluster = await rt.ClusterMember.Ask<ClusterProtocol.Standing>(new ClusterProtocol.GetStanding(), rt.Timeout);
        var joined = cluster.State == MemberState.Joined;
        var ok = health.Healthy && directory.Ready && joined;
        return Results.Json(new
        {
            Status = ok ? "ok" : "degraded",
            Libvirt = health.Healthy,
            health.Error,
            VmsReady = directory.Ready,
            directory.Recovering,
            Cluster = cluster.State,
            ClusterError = cluster.Error,
        }, ApiJson.Options, statusCode: ok ? 200 : 503);
    }
}
