using Akka.Actor;
using Akka.Cluster.Sharding;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Cluster;

namespace Virt.Node.Api;

/// <summary><c>GET /v1/sharding</c>: the <c>vm</c> region on each member, its shards and their entities, as the shard coordinator has them.</summary>
internal static class ShardingEndpoints
{
    public static void Map(IEndpointRouteBuilder app) => app.MapGet("/v1/sharding", Show);

    private static async Task<IResult> Show(ApiContext api)
    {
        var members = Akka.Cluster.Cluster.Get(api.System).State.Members;
        string Name(Address address) => members.FirstOrDefault(m => m.Address == address) is { } m ? NodeRole.NameOf(m) : address.ToString();
        ClusterShardingStats stats;
        try
        {
            stats = await api.ShardingStats();
        }
        catch (AskTimeoutException)
        {
            return Problems.Timeout(api.Timeout);
        }

        var regions = stats.Regions.Select(r => new
        {
            Node = Name(r.Key),
            Address = $"{r.Key.Host}:{r.Key.Port}",
            Shards = r.Value.Stats.Count,
            Entities = r.Value.Stats.Values.Sum(),
        }).OrderBy(r => r.Node, StringComparer.Ordinal).ToList();
        var shards = stats.Regions.SelectMany(r => r.Value.Stats.Select(s => new { Shard = s.Key, Node = Name(r.Key), Entities = s.Value }))
            .OrderBy(s => s.Node, StringComparer.Ordinal).ThenBy(s => s.Shard, StringComparer.Ordinal).ToList();
        return Results.Json(new { Region = "vm", Regions = regions, Shards = shards, Entities = regions.Sum(r => r.Entities) }, ApiJson.Options);
    }
}
