using System.Text.Json.Nodes;
using Virt.Shell.Output;
using Virt.Shell.Palettes;
using Virt.Shell.Parsing;

namespace Virt.Shell.Execution;

/// <summary>Runs one parsed command: in the shell (local) or as its HTTP request, then --wait, --follow, and the output.</summary>
internal static class CommandRunner
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public static async Task<int> Run(ParsedCommand parsed, ApiClient? node, CancellationToken cancellationToken)
    {
        var command = parsed.Command;
        if (command.Local is { } local && local != EditCommand.Name && local != ConsoleCommand.Name)
        {
            return local == PlanCommand.Name
                ? PlanCommand.Run(parsed)
                : throw new UsageException($"{parsed.Title} runs inside the shell ('{local}'), and this virt does not know it; use a newer virt");
        }

        var client = node ?? throw new InvalidOperationException($"{parsed.Title} needs a node, and none was given");
        if (command.Local == EditCommand.Name)
            return await EditCommand.Run(parsed, client, cancellationToken);
        if (command.Local == ConsoleCommand.Name)
            return await ConsoleCommand.Run(parsed, client, cancellationToken);
        var (method, path, body) = RequestBuilder.Build(parsed);
        var answer = await client.Send(method, path, body, cancellationToken);
        var json = parsed.Flag(StandardOption.Json);
        if (command.Follow is { } follow)
            return await Follow(parsed, follow, answer, client, json, cancellationToken);

        if (command.Watch is { } watch && parsed.Flag(StandardOption.Watch))
            return await Watch(parsed, watch, answer, client, method, path, body, json, cancellationToken);

        if (command.Each is { } each && Template.Lookup(answer, each) is JsonArray items)
            return await Each(parsed, answer, items, client, json, cancellationToken);

        var failed = false;
        if (command.Wait is { } wait && parsed.Flag(StandardOption.Wait))
            (answer, failed) = await Wait(parsed, wait, answer, client, cancellationToken);
        if (json)
            JsonOutput.Print(answer);
        else
            Printer.Print(command, answer, parsed.Values);
        return failed || Refused(command, answer) ? ExitCode.Refused : ExitCode.Done;
    }

    /// <summary>
    /// A command that acted on several VMs: with --wait, each accepted one is awaited (refused ones are not); then each
    /// item is printed with the command's output (JSON: the answer, items replaced by what was awaited). Exit 1 when
    /// any was refused or ended failed.
    /// </summary>
    private static async Task<int> Each(ParsedCommand parsed, JsonNode answer, JsonArray items, ApiClient client, bool json, CancellationToken cancellationToken)
    {
        var command = parsed.Command;
        var failed = false;
        var results = new List<JsonNode>();
        foreach (var item in items.OfType<JsonNode>())
        {
            var result = item;
            var accepted = Template.Lookup(item, "accepted") is not JsonValue a || a.GetValueKind() != System.Text.Json.JsonValueKind.False;
            if (accepted && command.Wait is { } wait && parsed.Flag(StandardOption.Wait) && Template.Lookup(item, "name") is { } name)
            {
                var argument = Palettes.Palettes.Arguments(command).FirstOrDefault(p => p.To == "path")?.Name ?? "NAME";
                var one = new ParsedCommand(parsed.Palette, command, new Dictionary<string, List<string>>(parsed.Values) { [argument] = [Template.Text(name)!] });
                (result, var itemFailed) = await Wait(one, wait, item, client, cancellationToken);
                failed |= itemFailed;
            }

            results.Add(result.DeepClone());
        }

        if (json)
        {
            var whole = answer.DeepClone();
            whole[command.Each!] = new JsonArray([.. results]);
            JsonOutput.Print(whole);
        }
        else
        {
            foreach (var result in results)
                Printer.Print(command, result, parsed.Values);
            if (results.Count == 0 && Template.Lookup(answer, "message") is { } message)
                Console.Out.WriteLine(Template.Text(message));
        }

        return failed || Refused(command, answer) ? ExitCode.Refused : ExitCode.Done;
    }

    /// <summary>The answer says some of what was asked was refused (see <see cref="PaletteCommand.RefusedIf"/>).</summary>
    private static bool Refused(PaletteCommand command, JsonNode answer) =>
        command.RefusedIf is { } field && Template.Lookup(answer, field) switch
        {
            JsonArray list => list.Count > 0,
            JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.True => true,
            JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => v.GetValue<double>() > 0,
            JsonObject o => o.Count > 0,
            _ => false,
        };

    /// <summary>Polls until the field reaches one of the awaited values; false deadline is exit 4, a "failed" value exit 1.</summary>
    private static async Task<(JsonNode Answer, bool Failed)> Wait(ParsedCommand parsed, WaitSpec wait, JsonNode answer, ApiClient client, CancellationToken cancellationToken)
    {
        var seconds = parsed.Value(StandardOption.Timeout) is { } t ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : StandardOption.TimeoutSecondsDefault;
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var path = RequestBuilder.Fill(wait.Path, parsed.Values);
        string? Field(JsonNode node) => Template.Lookup(node, wait.Field) is { } v ? Template.Text(v) : null;
        while (!wait.Until.Contains(Field(answer) ?? ""))
        {
            if (DateTime.UtcNow >= deadline)
                throw new WaitTimedOutException($"{parsed.Value("NAME") ?? parsed.Title}: still {Field(answer) ?? "unknown"} after {seconds} s (waited for {string.Join(" or ", wait.Until)}); it goes on in the background, see 'virt {parsed.Palette.Name} show'");
            await Task.Delay(PollInterval, cancellationToken); // polling a remote state for the person waiting; not synchronisation inside Virt
            answer = await client.Get(path, cancellationToken);
        }

        return (answer, wait.Failed?.Contains(Field(answer) ?? "") ?? false);
    }

    /// <summary>Prints the answer, then asks again every interval and redraws it: in place on a terminal, one after another otherwise.</summary>
    private static async Task<int> Watch(ParsedCommand parsed, WatchSpec watch, JsonNode answer, ApiClient client, HttpMethod method, string path, JsonNode? body, bool json, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                if (Terminal.Colour && !json)
                    Console.Out.Write("\e[H\e[2J"); // home, clear: redraw in place
                if (json)
                    JsonOutput.Line(answer);
                else
                    Printer.Print(parsed.Command, answer, parsed.Values);
                Console.Out.Flush();
                await Task.Delay(TimeSpan.FromSeconds(watch.Seconds), cancellationToken); // the refresh the person asked for
                answer = await client.Send(method, path, body, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCode.Done;
        }
    }

    /// <summary>The history as a table (or JSON lines), then, with --follow, live items lined up with it until Ctrl+C.</summary>
    private static async Task<int> Follow(ParsedCommand parsed, FollowSpec follow, JsonNode answer, ApiClient client, bool json, CancellationToken cancellationToken)
    {
        var spec = parsed.Command.Output?.Table;
        var history = spec is null ? (answer as JsonArray)?.ToList() ?? [answer] : Printer.Rows(spec, answer);
        var live = parsed.Flag(StandardOption.Follow);
        var table = spec is null ? null : Printer.NewTable(spec);
        var last = "0";
        foreach (var item in history)
        {
            if (Template.Lookup(item, follow.After) is { } after)
                last = Template.Text(after) ?? last;
            if (json)
                JsonOutput.Line(item);
            else if (table is not null)
                table.Add(Printer.Cells(spec!, item, parsed.Values));
        }

        if (!json && table is not null && (table.Count > 0 || live))
            Console.Out.WriteLine(table);
        else if (!json && table is null)
            JsonOutput.Print(answer);
        if (!live)
            return ExitCode.Done;

        Console.Out.Flush();
        var match = (follow.Match ?? []).Select(m => (Field: m.Key, Want: parsed.Value(m.Value))).Where(m => m.Want is not null).ToList();
        try
        {
            await foreach (var item in client.Stream($"{follow.Path}{(follow.Path.Contains('?') ? '&' : '?')}after={Uri.EscapeDataString(last)}", cancellationToken))
            {
                if (match.Any(m => (Template.Lookup(item, m.Field) is { } v ? Template.Text(v) : null) != m.Want))
                    continue;
                if (json)
                    JsonOutput.Line(item);
                else if (table is not null)
                    Console.Out.WriteLine(table.Line(Printer.Cells(spec!, item, parsed.Values)));
                else
                    JsonOutput.Line(item);
                Console.Out.Flush();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return ExitCode.Done;
    }
}
