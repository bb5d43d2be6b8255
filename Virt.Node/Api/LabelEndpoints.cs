using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Virt.Node.Api;

/// <summary>
/// <c>GET /v1/labels</c>: every label the cluster's VMs have, as <c>KEY=VALUE</c> with how many VMs have it, from the
/// VM index: what <c>--label</c> can select (the shell completes it from here).
/// </summary>
internal static class LabelEndpoints
{
    /// <param name="Label"><c>KEY=VALUE</c>, as <c>--label</c> and <c>?label=</c> take it.</param>
    internal sealed record LabelUse(string Label, string Key, string Value, int Vms);

    public static void Map(IEndpointRouteBuilder app) => app.MapGet("/v1/labels", List);

    private static async Task<IResult> List(ApiContext api)
    {
        if (await api.Listing() is not { } listing)
            return Problems.Timeout(api.Timeout);

        var uses = listing.Vms
            .Where(v => v.Exists && v.Spec?.Labels is not null)
            .SelectMany(v => v.Spec!.Labels!)
            .GroupBy(l => (l.Key, l.Value))
            .Select(g => new LabelUse($"{g.Key.Key}={g.Key.Value}", g.Key.Key, g.Key.Value, g.Count()))
            .OrderBy(u => u.Label, StringComparer.Ordinal);
        return Results.Json(uses, ApiJson.Options);
    }
}
