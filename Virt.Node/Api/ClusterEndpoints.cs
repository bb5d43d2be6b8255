using Akka.Actor;
using Akka.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Cluster;

namespace Virt.Node.Api;

/// <summary>/v1/cluster: the members as Akka.Cluster sees them from this node, the leader, and who holds the balancer singleton.</summary>
internal static class ClusterEndpoints
{
    public static void Map(IEndpointRouteBuilder app) => app.MapGet("/v1/cluster", Show);

    private static IResult Show(ApiContext api)
    {
        var cluster = Cluster.Get(api.System);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
        var members = state.Members.Where(m => m.Status != MemberStatus.Removed).OrderBy(m => NodeRole.NameIn(m.Roles), StringComparer.Ordinal).ToList();

        // The singleton runs on the oldest member (of any role, as it is configured): Akka's rule, no asking needed.
        var oldest = members.Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving).OrderBy(m => m, Member.AgeOrdering).FirstOrDefault();
        return Results.Json(new
        {
            Self = new
            {
                Name = api.NodeName,
                Address = cluster.SelfAddress.ToString(),
                Status = cluster.SelfMember.Status.ToString().ToLowerInvariant(),
            },
            Leader = state.Leader is { } leader ? members.FirstOrDefault(m => m.Address == leader) is { } l ? NodeRole.NameIn(l.Roles) : leader.ToString() : null,
            Members = members.Select(m => new
            {
                Name = NodeRole.NameOf(m),
                Address = $"{m.Address.Host}:{m.Address.Port}",
                Incarnation = m.UniqueAddress.Uid,
                Status = unreachable.Contains(m.UniqueAddress) ? "unreachable" : m.Status.ToString().ToLowerInvariant(),
                Roles = NodeRole.Others(m.Roles).Order(StringComparer.Ordinal).ToList(),
            }),
            Singletons = new Dictionary<string, string?> { ["balancer"] = oldest is null ? null : NodeRole.NameIn(oldest.Roles) },
        }, ApiJson.Options);
    }
}
