using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Virt.Shell.Output;
using Virt.Shell.Palettes;
using Virt.Shell.Parsing;

namespace Virt.Shell.Execution;

/// <summary>
/// <c>virt vm edit NAME</c>: the spec in <c>$VISUAL</c> or <c>$EDITOR</c> (else vi) as JSON, sent back when saved. A
/// change the node refuses (or text that is not JSON) comes back in the editor with what is wrong written above it;
/// the same refused edit twice, or an editor that fails, ends with the edit kept in its file, which
/// <c>--from FILE</c> opens again (in place: a file given is never removed). Leaving the spec unchanged sends nothing.
/// The edit is sent with <c>If-Match</c>, the version it was made on: when someone changed the VM while the editor was
/// open, it opens again with that said, what changed and the spec as it is now above the person's text, untouched.
/// </summary>
internal static class EditCommand
{
    public const string Name = "edit";
    public const string FromOption = "--from";

    private static readonly JsonDocumentOptions Lenient = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static async Task<int> Run(ParsedCommand parsed, ApiClient client, CancellationToken cancellationToken)
    {
        var command = parsed.Command;
        var edit = command.Edit ?? throw new UsageException($"{parsed.Title}: the node's palette gives no spec to edit");
        var send = command.Request ?? throw new UsageException($"{parsed.Title}: the node's palette gives nowhere to send the edit");
        var target = parsed.Value("NAME") ?? parsed.Title;
        var (original, version) = await client.GetTagged(RequestBuilder.Fill(edit.Path, parsed.Values), cancellationToken);
        var originalText = Canonical(original);
        JsonObject? basis = original as JsonObject; // the spec the person's text was made on, when known
        var from = parsed.Value(FromOption);
        var file = from ?? Path.Combine(Path.GetTempPath(), $"virt-edit-{target}-{Guid.NewGuid().ToString("N")[..8]}.json");
        string body;
        if (from is not null)
        {
            string text;
            try
            {
                text = File.ReadAllText(from);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"{parsed.Title}: cannot read {from}: {ex.Message}");
            }

            body = Strip(text);
            if (KeptVersion(text) is { } kept && kept != version)
            {
                version = kept; // a kept edit was made on that version: sent on it, so a change since is not overwritten unseen
                basis = null;
            }
        }
        else
        {
            body = original.ToJsonString(JsonOutput.Pretty) + "\n";
        }

        List<string> problems = [];
        List<string> notes = [];
        string? refusedBefore = null;
        while (true)
        {
            await File.WriteAllTextAsync(file, Header(parsed, version, problems, notes) + body, cancellationToken);
            var exit = await Editor(file, cancellationToken);
            var saved = await File.ReadAllTextAsync(file, cancellationToken);
            var edited = Strip(saved);
            if (exit != 0)
                return Kept(parsed, file, $"the editor exited with status {exit}; nothing was sent");
            if (edited == refusedBefore)
                return Kept(parsed, file, $"the edit was refused and came back unchanged: {string.Join("; ", problems)}; nothing was sent");

            JsonNode? spec = null;
            try
            {
                spec = JsonNode.Parse(saved, documentOptions: Lenient); // the whole file, so a line number is the one the editor showed
                problems = spec is JsonObject ? [] : ["the spec must be one JSON object { ... }"];
            }
            catch (JsonException ex)
            {
                problems = [$"not valid JSON{(ex.LineNumber is { } line ? $" at line {line + 1}" : "")}: {ex.Message.Split(" LineNumber:")[0].Split(" Path:")[0]}"];
            }

            notes = [];
            if (problems.Count == 0 && Canonical(spec!) == originalText)
            {
                if (from is null)
                    File.Delete(file);
                Console.Out.WriteLine($"{target}: unchanged; nothing was sent");
                return ExitCode.Done;
            }

            if (problems.Count == 0)
            {
                try
                {
                    var answer = await client.SendIfMatch(new HttpMethod(send.Method.ToUpperInvariant()), RequestBuilder.Fill(send.Path, parsed.Values), spec, version, cancellationToken);
                    if (from is null)
                        File.Delete(file);
                    if (parsed.Flag(StandardOption.Json))
                        JsonOutput.Print(answer);
                    else
                        Printer.Print(command, answer, parsed.Values);
                    return ExitCode.Done;
                }
                catch (ApiException ex) when (ex.Status == 412 && ex.Problem?["spec"] is JsonObject now)
                {
                    // Someone changed the VM while the editor was open: the person's text stays as it is, the spec as it
                    // is now is shown above it, and the next save is sent on that version.
                    problems = [ex.Message];
                    notes = [.. Changed(basis, now), "The spec as it is now:", .. now.ToJsonString(JsonOutput.Pretty).Split('\n')];
                    version = ex.Problem["etag"]?.GetValue<string>();
                    original = now;
                    originalText = Canonical(now);
                    basis = now;
                }
                catch (ApiException ex) when (ex.Status is >= 400 and < 500)
                {
                    problems = [.. ex.Errors];
                }
            }

            Console.Error.WriteLine($"virt: {target}: not changed: {string.Join("; ", problems)}");
            refusedBefore = edited;
            body = edited;
        }
    }

    /// <summary>What someone else changed: each field of the spec the edit was made on that is another now.</summary>
    private static IEnumerable<string> Changed(JsonObject? before, JsonObject now)
    {
        if (before is null)
            return [];
        var changes = SpecChanges.Between(before, now);
        return changes.Count == 0 ? [] : ["Changed meanwhile:", .. changes.Select(c => "  " + c)];
    }

    private const string VersionMark = "spec version ";

    /// <summary>Comment lines explaining the file, and what was wrong with the last try; stripped again before sending.</summary>
    private static string Header(ParsedCommand parsed, string? version, List<string> problems, List<string> notes)
    {
        var sb = new StringBuilder();
        sb.Append("// virt ").Append(parsed.Title).Append(' ').Append(parsed.Value("NAME")).Append(": save and quit to send the spec; quit without a change to cancel.\n");
        sb.Append("// A running VM's vCPUs, memory, disks and NICs change at its next start; everything else at once.\n");
        if (version is not null)
            sb.Append("// Made on ").Append(VersionMark).Append(version).Append(": refused if the VM's spec is another version by then.\n");
        if (problems.Count > 0)
        {
            sb.Append("//\n// NOT CHANGED. Fix this and save again (or quit without a change to keep your edit in this file):\n");
            foreach (var problem in problems)
                sb.Append("//   ").Append(problem).Append('\n');
        }

        if (notes.Count > 0)
        {
            sb.Append("//\n");
            foreach (var note in notes)
                sb.Append("//   ").Append(note).Append('\n');
            sb.Append("// Your text is below as you left it: change it to keep what changed meanwhile, and save.\n");
        }

        return sb.ToString();
    }

    /// <summary>The version a kept edit's header says it was made on.</summary>
    private static string? KeptVersion(string text)
    {
        foreach (var line in text.Split('\n').TakeWhile(l => l.TrimStart().StartsWith("//", StringComparison.Ordinal)))
        {
            var at = line.IndexOf(VersionMark, StringComparison.Ordinal);
            if (at >= 0 && line[(at + VersionMark.Length)..].Split(':')[0] is { Length: > 0 } tag && tag.StartsWith('"'))
                return tag;
        }

        return null;
    }

    /// <summary>The text without the header's comment lines at its top.</summary>
    private static string Strip(string text)
    {
        var lines = text.Split('\n');
        return string.Join('\n', lines.SkipWhile(l => l.TrimStart().StartsWith("//", StringComparison.Ordinal)));
    }

    private static string Canonical(JsonNode node) => node.ToJsonString(JsonOutput.Compact);

    private static int Kept(ParsedCommand parsed, string file, string why)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"virt: {parsed.Value("NAME")}: {why}. Your edit is kept in {file}; 'virt {parsed.Title} {parsed.Value("NAME")} {FromOption} {file}' opens it again");
        return ExitCode.Refused;
    }

    /// <summary>Runs the editor on the terminal (through sh, so <c>EDITOR="code --wait"</c> works) and waits for it.</summary>
    private static async Task<int> Editor(string file, CancellationToken cancellationToken)
    {
        var editor = Environment.GetEnvironmentVariable("VISUAL") is { Length: > 0 } visual ? visual
            : Environment.GetEnvironmentVariable("EDITOR") is { Length: > 0 } e ? e : "vi";
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(editor + " \"$1\"");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(file);
        using var process = Process.Start(start) ?? throw new UsageException($"cannot start the editor '{editor}'; set VISUAL or EDITOR");
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode;
    }
}
