using System.CommandLine;
using System.Text.Json.Nodes;
using Virt.Shell.Output;

namespace Virt.Shell.Commands;

/// <summary><c>virt events [--follow]</c>: VM state changes from the journal, then live.</summary>
internal static class EventsCommand
{
    public static Command Build(Option<string> api)
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events as they happen (Ctrl+C stops)." };
        var vm = new Option<string?>("--vm") { Description = "Only this VM's events." };
        var limit = new Option<int>("--limit") { Description = "How many past events to show.", DefaultValueFactory = _ => 20 };
        var json = new Option<bool>("--json") { Description = "One JSON object per line." };
        var command = new Command("events", "Show VM state changes (history, and with --follow, live).") { follow, vm, limit, json };
        command.SetAction((parse, ct) => Invoke.Api(parse.GetValue(api)!, async client =>
        {
            var only = parse.GetValue(vm);
            var query = $"/v1/events?limit={parse.GetValue(limit)}" + (only is null ? "" : $"&vm={Uri.EscapeDataString(only)}");
            var history = (JsonArray)await client.Get(query);
            var last = 0L;
            var table = new Table("OFFSET", "TIME", "VM", "EVENT", "DETAIL");
            foreach (var e in history)
            {
                last = Math.Max(last, e!["offset"]!.GetValue<long>());
                if (parse.GetValue(json))
                    Console.WriteLine(e.ToJsonString());
                else
                    table.Add(e["offset"], Time(e), e["vm"], e["type"], Detail(e));
            }

            if (!parse.GetValue(json) && history.Count > 0)
                Console.WriteLine(table);
            if (!parse.GetValue(follow))
                return 0;

            Console.Out.Flush();
            try
            {
                await foreach (var e in client.Stream($"/v1/events/stream?after={last}", ct))
                {
                    if (only is not null && e["vm"]?.GetValue<string>() != only)
                        continue;
                    Console.WriteLine(parse.GetValue(json) ? e.ToJsonString() : $"{e["offset"],6}  {Time(e)}  {e["vm"]}  {e["type"]}  {Detail(e)}");
                    Console.Out.Flush();
                }
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        }));
        return command;
    }

    private static string Time(JsonNode e) =>
        DateTimeOffset.TryParse(e["at"]?.GetValue<string>(), out var at) ? at.ToLocalTime().ToString("HH:mm:ss") : "-";

    private static string Detail(JsonNode e)
    {
        var d = e["detail"];
        return (d?["why"] ?? d?["reason"] ?? d?["reasons"]?.AsArray().LastOrDefault())?.ToString() ?? "";
    }
}
