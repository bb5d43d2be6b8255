using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Persistence;
using Virt.Actors.Vm;
using Virt.Node.Hosting;

namespace Virt.Node.Api;

/// <summary>
/// /v1/events: the history of VM state changes, read straight from the journal's "vm" tag; /v1/events/stream: the
/// same as server-sent events, live, resumable from an offset (or the Last-Event-ID header).
/// </summary>
internal static class EventEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/events", History);
        app.MapGet("/v1/events/stream", Stream);
    }

    internal sealed record EventResource(long Offset, string Vm, string Type, DateTimeOffset At, JsonElement Detail);

    private static async Task<IResult> History(NodeRuntime rt, long? after, int? limit, string? vm)
    {
        var take = Math.Clamp(limit ?? 100, 1, 10_000);
        var list = new List<EventResource>();
        await foreach (var e in rt.Journal.CurrentEventsByTagAsync(VmSerialization.Tag, after ?? 0))
        {
            var resource = Resource(e);
            if (vm is not null && resource.Vm != vm)
                continue;
            list.Add(resource);
            if (vm is null && list.Count > take)
                list.RemoveAt(0); // the newest `take`
        }

        return Results.Json(vm is null ? list : list.TakeLast(take), ApiJson.Options);
    }

    private static async Task Stream(HttpContext context, NodeRuntime rt, long? after)
    {
        var from = after ?? (long.TryParse(context.Request.Headers["Last-Event-ID"], out var last) ? last : 0);
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.WriteAsync(": virt events\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        try
        {
            await foreach (var e in rt.Journal.EventsByTagAsync(VmSerialization.Tag, from, context.RequestAborted))
            {
                var json = JsonSerializer.Serialize(Resource(e), ApiJson.Options);
                await context.Response.WriteAsync($"id: {e.Ordering}\nevent: vm\ndata: {json}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
    }

    private static EventResource Resource(PersistedEvent e)
    {
        var type = e.Manifest.StartsWith("vm.", StringComparison.Ordinal) ? e.Manifest[3..e.Manifest.LastIndexOf('.')] : e.Manifest;
        var at = e.Payload is VmEvent ve ? ve.At : e.Created;
        return new EventResource(e.Ordering, e.PersistenceId[VmSerialization.IdPrefix.Length..], type, at, JsonSerializer.SerializeToElement(e.Payload, e.Payload.GetType(), ApiJson.Options));
    }
}
