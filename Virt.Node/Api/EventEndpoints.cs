using System.Text.Json;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Index;
using Virt.Actors.Persistence;
using Virt.Actors.Vm;

namespace Virt.Node.Api;

/// <summary>
/// /v1/events: the history of VM state changes, read from the journal (a VM's own events, or the <c>vm</c> tag);
/// /v1/events/stream: the same as server-sent events, live, resumable from an offset (or the Last-Event-ID header).
/// </summary>
internal static class EventEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/events", History);
        app.MapGet("/v1/events/stream", Stream);
    }

    internal sealed record EventResource(long Offset, string Vm, string Type, DateTimeOffset At, JsonElement Detail);

    private static SqlReadJournal Journal(ApiContext api) =>
        PersistenceQuery.Get(api.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);

    private static (long? Value, IResult? Error) Number(HttpRequest request, string name, long min, long max)
    {
        if (!request.Query.TryGetValue(name, out var values))
            return (null, null);
        return long.TryParse(values.ToString(), out var n) && n >= min && n <= max
            ? (n, null)
            : (null, Problems.BadQuery(name, $"'{values}' is not a whole number from {min} to {max}"));
    }

    private static async Task<IResult> History(HttpRequest request, ApiContext api)
    {
        var (after, badAfter) = Number(request, "after", 0, long.MaxValue);
        var (limit, badLimit) = Number(request, "limit", 1, 10_000);
        if ((badAfter ?? badLimit) is { } bad)
            return bad;
        var vm = request.Query.TryGetValue("vm", out var v) ? v.ToString() : null;
        var take = (int)(limit ?? 100);
        var materializer = api.System.Materializer();
        var journal = Journal(api);

        if (vm is not null)
        {
            var own = await journal.CurrentEventsByPersistenceId(VmEntity.IdPrefix + vm, 0, long.MaxValue)
                .Where(e => e.Event is VmEvent && (after is null || Offset(e) > after))
                .RunWith(Sink.Seq<EventEnvelope>(), materializer);
            return Results.Json((after is null ? own.TakeLast(take) : own.Take(take)).Select(Resource), ApiJson.Options);
        }

        if (after is not null)
        {
            var next = await journal.CurrentEventsByTag(VmEventTagger.Tag, Akka.Persistence.Query.Offset.Sequence(after.Value)).Take(take).RunWith(Sink.Seq<EventEnvelope>(), materializer);
            return Results.Json(next.Select(Resource), ApiJson.Options);
        }

        // The newest events: read a window back from the index's offset, widening it until it holds enough.
        var status = await api.Ask<VmIndexProtocol.Status>(api.Index, new VmIndexProtocol.GetStatus());
        var window = (long)take * 4;
        while (true)
        {
            var from = Math.Max(0, status.Offset - window);
            var events = await journal.CurrentEventsByTag(VmEventTagger.Tag, Akka.Persistence.Query.Offset.Sequence(from)).RunWith(Sink.Seq<EventEnvelope>(), materializer);
            if (events.Count >= take || from == 0)
                return Results.Json(events.TakeLast(take).Select(Resource), ApiJson.Options);
            window *= 4;
        }
    }

    private static async Task Stream(HttpContext context, ApiContext api)
    {
        var (after, bad) = Number(context.Request, "after", 0, long.MaxValue);
        if (bad is not null)
        {
            await bad.ExecuteAsync(context);
            return;
        }

        var from = after ?? (long.TryParse(context.Request.Headers["Last-Event-ID"], out var last) ? last : 0);
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.WriteAsync(": virt events\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        // A live query that fails (the journal busy under load, a connection dropped) resumes after the last event
        // sent, so a follower misses nothing and sees nothing twice; only the client going away ends the stream.
        try
        {
            while (true)
            {
                var live = Journal(api).EventsByTag(VmEventTagger.Tag, Akka.Persistence.Query.Offset.Sequence(from));
                try
                {
                    await foreach (var e in live.RunAsAsyncEnumerable(api.System.Materializer()).WithCancellation(context.RequestAborted))
                    {
                        var json = JsonSerializer.Serialize(Resource(e), ApiJson.Options);
                        await context.Response.WriteAsync($"id: {Offset(e)}\nevent: vm\ndata: {json}\n\n", context.RequestAborted);
                        await context.Response.Body.FlushAsync(context.RequestAborted);
                        from = Offset(e);
                    }
                }
                catch (Exception) when (Akka.Actor.CoordinatedShutdown.Get(api.System).ShutdownReason is not null)
                {
                    return; // the node is stopping: the stream ends with it
                }
                catch (Exception ex) when (ex is not (IOException or OperationCanceledException))
                {
                    Akka.Event.LoggingExtensions.Warning(api.System.Log, "event stream: the journal query failed ({0}); resuming after offset {1}", ex.GetBaseException().Message, from);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), context.RequestAborted); // back off before asking the journal again
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
    }

    private static long Offset(EventEnvelope e) => e.Offset is Sequence s ? s.Value : 0;

    private static EventResource Resource(EventEnvelope e)
    {
        var manifest = VirtManifests.Codec.ManifestOf(e.Event.GetType());
        var type = manifest.StartsWith("vm.", StringComparison.Ordinal) ? manifest[3..manifest.LastIndexOf('.')] : manifest;
        var at = e.Event is VmEvent ve ? ve.At : DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp);
        return new EventResource(Offset(e), e.PersistenceId[VmEntity.IdPrefix.Length..], type, at, JsonSerializer.SerializeToElement(e.Event, e.Event.GetType(), ApiJson.Options));
    }
}
