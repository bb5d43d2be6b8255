using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Virt.Actors.Cluster;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Runtime;
using Virt.Node.Hosting;

namespace Virt.Node.Api;

/// <summary>/v1/cluster: the members as the coordination store has them (each with its lease time left) and who holds each singleton.</summary>
internal static class ClusterEndpoints
{
    public static void Map(IEndpointRouteBuilder app) => app.MapGet("/v1/cluster", Show);

    private static async Task<IResult> Show(NodeRuntime rt, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var standing = await rt.ClusterMember.Ask<ClusterProtocol.Standing>(new ClusterProtocol.GetStanding(), rt.Timeout);
        var store = rt.Coordination;
        try
        {
            var log = loggers.CreateLogger("cluster");
            var listed = await store.ListAsync(CoordinationKeys.Members, cancellationToken);
            var members = listed.Entries.Select(e => ClusterMembership.Read(e, log)).OfType<MemberInfo>().OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
            var ttls = await Task.WhenAll(members.Select(m => store.TimeToLiveAsync(m.Lease, cancellationToken)));
            var singletons = (await store.ListAsync(CoordinationKeys.Singletons, cancellationToken)).Entries
                .ToDictionary(e => e.Key[CoordinationKeys.Singletons.Length..], e => (string?)System.Text.Encoding.UTF8.GetString(e.Value), StringComparer.Ordinal);
            singletons.TryAdd(ClusterMemberActor.Balancer, null); // nobody holds it: an election is under way
            return Results.Json(new
            {
                Mode = rt.Cluster.UsesEtcd ? "etcd" : "in-process",
                Endpoints = rt.Cluster.Etcd.Endpoints,
                Self = standing,
                Members = members.Select((m, i) => new
                {
                    m.Name,
                    m.Address,
                    m.Incarnation,
                    LeaseTtlLeftMs = (long)(ttls[i] ?? TimeSpan.Zero).TotalMilliseconds,
                    m.Roles,
                    m.Capacity,
                    m.JoinedAt,
                }),
                Singletons = singletons,
            }, ApiJson.Options);
        }
        catch (CoordinationUnavailableException ex)
        {
            return Results.Problem(statusCode: 503, title: "coordination store unavailable",
                detail: $"{ex.Message}; this node is {ApiJson.Name(standing.State)}. Check that etcd is up (virt.cluster.etcd.endpoints) and has a quorum");
        }
    }
}
