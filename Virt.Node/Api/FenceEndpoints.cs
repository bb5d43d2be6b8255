using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Fencing;

namespace Virt.Node.Api;

/// <summary>
/// /v1/fences (every fence record, newest first), POST /v1/nodes/NAME/fence (the operator's fence, like
/// <c>pcs stonith fence</c>: a member is downed first) and POST /v1/nodes/NAME/confirm-fenced (the operator vouches
/// that a lost host is off, like <c>stonith_admin --confirm</c>).
/// </summary>
internal static class FenceEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/fences", List);
        app.MapPost("/v1/nodes/{name}/fence", (string name, ApiContext api) => Act(api, new FencerProtocol.FenceNow(name)));
        app.MapPost("/v1/nodes/{name}/confirm-fenced", (string name, ApiContext api) => Act(api, new FencerProtocol.ConfirmFenced(name)));
    }

    private static async Task<IResult> List(ApiContext api)
    {
        var fences = await api.Ask<FencerProtocol.Fences>(api.Fencer, new FencerProtocol.GetFences());
        return Results.Json(new
        {
            Fences = fences.Records.Select(r => new
            {
                r.Host,
                r.Incarnation,
                State = r.Confirmed is not null ? "fenced" : "pending",
                r.Why,
                r.RequestedAt,
                r.MembershipEnded,
                Level = r.Confirmed?.Level,
                Evidence = r.Confirmed?.Evidence,
                FencedAt = r.Confirmed?.At,
                r.Rounds,
                r.LastFailure,
                r.LastAttempt,
            }),
            Hosts = fences.Hosts.Select(h => new { h.Host, h.Incarnation, WatchdogTimeoutMs = h.Watchdog is { } w ? (long?)w.TotalMilliseconds : null }),
        }, ApiJson.Options);
    }

    private static async Task<IResult> Act(ApiContext api, object request)
    {
        var answer = await api.Ask<FencerProtocol.Answer>(api.Fencer, request);
        if (answer.Ok)
            return Results.Json(new { answer.Message }, ApiJson.Options, statusCode: 202);
        return answer.Conflict
            ? Results.Problem(statusCode: 409, title: "refused in this state", detail: answer.Message)
            : Results.Problem(statusCode: 404, title: "no such node", detail: answer.Message);
    }
}
