using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Virt.Actors.Balancer;
using Virt.Actors.Cluster;
using Virt.Actors.Index;
using Virt.Actors.Vm;
using Virt.Node.Hosting;

namespace Virt.Node.Api;

/// <summary>
/// <c>GET /v1/cluster/status</c>, the <c>crm_mon</c> of Virt: members with their status, roles, shards and entities;
/// the leader and the singleton holders; every host with what runs there and how full it is. And
/// <c>POST /v1/nodes/{name}/leave</c>: a member leaves gracefully (its shards hand off), refused while VMs run there.
/// </summary>
internal static class ClusterStatusEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/cluster/status", Status);
        app.MapPost("/v1/nodes/{name}/leave", Leave);
        app.MapPost("/v1/nodes/{name}/down", Down);
        app.MapPost("/v1/cluster/down-unreachable", DownUnreachable);
    }

    private static async Task<IResult> Status(ApiContext api, ActorRegistry registry, IOptions<NodeOptions> options)
    {
        var cluster = Akka.Cluster.Cluster.Get(api.System);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
        var stats = await api.ShardingStats();
        var hosts = await api.Ask<BalancerProtocol.Hosts>(registry.Get<BalancerKey>(), new BalancerProtocol.GetHosts());
        var vms = (await api.Ask<VmIndexProtocol.Listing>(api.Index, new VmIndexProtocol.List())).Vms;
        var members = state.Members.OrderBy(m => NodeRole.NameIn(m.Roles), StringComparer.Ordinal).ToList();
        var oldest = members.Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving).OrderBy(m => m, Member.AgeOrdering).FirstOrDefault();
        string? Name(Address? address) => members.FirstOrDefault(m => m.Address == address) is { } m ? NodeRole.NameIn(m.Roles) : address?.ToString();
        var leases = options.Value.Cluster.Etcd.Enabled ? await Leases(api, members) : null;
        string? Holder(string singleton) => leases is null
            ? oldest is null ? null : NodeRole.NameIn(oldest.Roles)
            : leases.FirstOrDefault(l => l.For == singleton)?.Holder;

        return Results.Json(new
        {
            Self = api.NodeName,
            Leader = Name(state.Leader),
            Singletons = new Dictionary<string, string?>
            {
                ["balancer"] = Holder("balancer"),
                ["shard-coordinator"] = Holder("shard-coordinator"),
            },
            Leases = leases,
            Members = members.Select(m =>
            {
                var shards = stats.Regions.TryGetValue(m.Address, out var region) ? region.Stats : null;
                return new
                {
                    Name = NodeRole.NameOf(m),
                    Address = $"{m.Address.Host}:{m.Address.Port}",
                    Status = unreachable.Contains(m.UniqueAddress) ? "unreachable" : m.Status.ToString().ToLowerInvariant(),
                    Roles = NodeRole.Others(m.Roles).Order(StringComparer.Ordinal).ToList(),
                    Incarnation = m.UniqueAddress.Uid,
                    Shards = shards?.Count ?? 0,
                    Entities = shards?.Values.Sum() ?? 0,
                };
            }),
            Hosts = hosts.Reports.Select(h =>
            {
                var here = vms.Where(v => v.OnHost && v.Node == h.Node).ToList();
                return new
                {
                    Name = h.Node,
                    State = h.Available ? ApiJson.Name(h.State) : "libvirt unreachable",
                    h.Attributes,
                    Vms = here.Select(v => v.Spec!.Name).Order(StringComparer.Ordinal).ToList(),
                    UsedVcpus = here.Sum(v => v.Spec!.Vcpus),
                    h.Cpus,
                    UsedMemoryMib = here.Sum(v => v.Spec!.MemoryMib),
                    h.MemoryMib,
                    ReportedAt = hosts.ReportedAt.GetValueOrDefault(h.Node),
                };
            }),
            VmCounts = vms.GroupBy(v => ApiJson.Name(v.Phase)).ToDictionary(g => g.Key, g => g.Count()),
        }, ApiJson.Options);
    }

    /// <summary>
    /// The etcd leases and their holders, as etcd has them: with etcd a singleton runs only where its lease is, so
    /// this is the truth about the singletons. The SBR's lease is held only while it decides a partition.
    /// </summary>
    private static async Task<List<LeaseHolding>> Leases(ApiContext api, IReadOnlyList<Member> members)
    {
        IReadOnlyDictionary<string, string> held;
        try
        {
            held = await EtcdLeaseHolders.ReadAsync(api.System, api.Timeout);
        }
        catch (Exception ex) // etcd down or refusing: the rest of the status is still worth showing
        {
            return [new LeaseHolding("(etcd)", null, null, $"cannot read the leases from etcd: {ex.GetBaseException().Message}")];
        }

        string? NodeAt(string owner) => members.FirstOrDefault(m => m.Address.HostPort() == owner) is { } m ? NodeRole.NameIn(m.Roles) : owner;
        return held.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => new LeaseHolding(h.Key, LeaseFor(h.Key), NodeAt(h.Value), null)).ToList();
    }

    private static string? LeaseFor(string lease) =>
        lease.EndsWith("/user/balancer", StringComparison.Ordinal) ? "balancer"
        : lease.EndsWith("/system/sharding/vmCoordinator", StringComparison.Ordinal) ? "shard-coordinator"
        : lease.EndsWith("-akka-sbr", StringComparison.Ordinal) ? "split-brain-resolver"
        : null;

    private sealed record LeaseHolding(string Name, string? For, string? Holder, string? Error);

    /// <summary>
    /// Marks a member down at once, as the split brain resolver would: no hand-off; the others take over its shards and
    /// singletons, and the VMs that run on it wait for a fence (it may still run them). For a host that is gone or
    /// hung; a healthy one should leave instead.
    /// </summary>
    private static IResult Down(string name, ApiContext api)
    {
        var cluster = Akka.Cluster.Cluster.Get(api.System);
        if (NodeRole.Find(cluster.State.Members, name) is not { } member)
            return NoMember(name);
        cluster.Down(member.Address);
        return Results.Json(new
        {
            Node = name,
            Status = "down",
            Message = $"{name} is marked down: the others take over its shards at once, and the VMs that run there wait for a fence (it may still run them)",
        }, ApiJson.Options, statusCode: 202);
    }

    /// <summary>Downs every member the others cannot reach (the split brain resolver would, after stable-after); names them.</summary>
    private static IResult DownUnreachable(ApiContext api)
    {
        var cluster = Akka.Cluster.Cluster.Get(api.System);
        var unreachable = cluster.State.Unreachable.Where(m => m.Status != MemberStatus.Down).ToList();
        foreach (var member in unreachable)
            cluster.Down(member.Address);
        var names = unreachable.Select(NodeRole.NameOf).Order(StringComparer.Ordinal).ToList();
        return Results.Json(new
        {
            Downed = names,
            Message = names.Count == 0 ? "no member is unreachable; nothing was downed" : $"marked down: {string.Join(", ", names)}; the VMs that run there wait for a fence",
        }, ApiJson.Options);
    }

    private static IResult NoMember(string name) =>
        Results.Problem(statusCode: 404, title: "no such node", detail: $"no member named '{name}'; 'virt cluster status' lists the members");

    private static async Task<IResult> Leave(string name, ApiContext api)
    {
        var cluster = Akka.Cluster.Cluster.Get(api.System);
        if (NodeRole.Find(cluster.State.Members, name) is not { } member)
            return NoMember(name);
        var running = (await api.Ask<VmIndexProtocol.Listing>(api.Index, new VmIndexProtocol.List())).Vms.Where(v => v.OnHost && v.Node == name).Select(v => v.Spec!.Name).ToList();
        if (running.Count > 0)
        {
            return Results.Problem(statusCode: 409, title: "VMs run there",
                detail: $"{name} runs {running.Count} VM(s) ({string.Join(", ", running.Take(10))}{(running.Count > 10 ? ", ..." : "")}); stop them first: leaving would leave them waiting for a fence (draining, which moves them, comes with live migration)");
        }

        cluster.Leave(member.Address);
        return Results.Json(new { Node = name, Status = "leaving", Message = $"{name} is leaving the cluster; its shards hand off to the others" }, ApiJson.Options, statusCode: 202);
    }
}
