using Virt.Shell.Completion;
using Virt.Shell.Execution;
using Virt.Shell.Output;
using Virt.Shell.Palettes;
using Virt.Shell.Parsing;

namespace Virt.Shell.Launch;

/// <summary>
/// <c>virt [HOST:PORT] COMMAND ...</c>: reads the node's palettes (the built-in ones when it does not answer), runs
/// the command and exits with its status. <c>plan</c> and <c>completion</c> never ask the node.
/// </summary>
internal static class OneShot
{
    public static async Task<int> Run(string address, List<string> words, CancellationToken cancellationToken)
    {
        switch (words[0])
        {
            case "completion":
                return Completion(words);
            case CompletionScripts.Command:
                return await Complete(address, words);
            case PlanCommand.Name:
                return await Outcome.Of(() => Execute(PaletteSource.Builtin(), null, words, cancellationToken));
        }

        using var client = new ApiClient(address);
        var palettes = await PaletteSource.Load(client, cancellationToken);
        if (words[0] == "help")
            words = [.. words.Skip(1), "--help"];
        return await Outcome.Of(async () =>
        {
            try
            {
                return await Execute(palettes, client, words, cancellationToken);
            }
            catch (UsageException) when (!palettes.FromNode && palettes.Find(words[0]) is null)
            {
                // The command may be one of the node's, and the node did not answer: say that, not "unknown command".
                throw new UnreachableException($"cannot reach virt-node at {address} to look up '{words[0]}' in its palettes; is virt-node running? Give another address with --api HOST:PORT or VIRT_API");
            }
        });
    }

    public static async Task<int> Execute(Palettes.Palettes palettes, ApiClient? client, IReadOnlyList<string> words, CancellationToken cancellationToken)
    {
        switch (CommandParser.Parse(palettes, words))
        {
            case HelpRequest help:
                Console.Out.WriteLine(HelpText.For(palettes, help));
                return ExitCode.Done;
            case ParsedCommand parsed:
                return await CommandRunner.Run(parsed, client, cancellationToken);
            default:
                throw new InvalidOperationException("the parser answered neither a command nor help");
        }
    }

    private static int Completion(List<string> words)
    {
        if (words.Count != 2 || CompletionScripts.For(words[1], CompletionScripts.Program()) is not { } script)
            return Outcome.Fail(ExitCode.Usage, $"completion: give one of {string.Join(", ", CompletionScripts.Shells)} (e.g. 'source <(virt completion bash)')");
        Console.Out.WriteLine(script);
        return ExitCode.Done;
    }

    /// <summary><c>virt __complete LINE</c>: the candidates for the end of LINE, one a line (LINE starts with the program's name).</summary>
    private static async Task<int> Complete(string address, List<string> words)
    {
        var line = words.Count > 1 ? words[1] : "";
        var split = Words.Split(line);
        var skip = split.Count > 0 ? split[0].Start + split[0].Text.Length : 0; // the program's name
        var tail = line[skip..];
        var inLine = Words.Split(tail).Select(w => w.Text).ToList();
        var lineAddress = GlobalArguments.Read(inLine.Count > 0 && !char.IsWhiteSpace(tail[^1]) ? inLine[..^1] : inLine).Address;
        if (lineAddress != ApiClient.Default)
            address = lineAddress;
        var stripped = StripGlobals(tail);
        using var client = new ApiClient(address);
        var palettes = await PaletteSource.Load(client);
        var completer = new Completer(() => palettes, () => client, ["help", "completion"]);
        var (_, candidates) = await completer.Complete(stripped, stripped.Length);
        foreach (var candidate in candidates)
            Console.Out.WriteLine(candidate);
        return ExitCode.Done;
    }

    /// <summary>The line without a leading HOST:PORT and without --api and its value, as the completer expects.</summary>
    private static string StripGlobals(string line)
    {
        var words = Words.Split(line);
        var cut = new List<(int Start, int End)>();
        for (var i = 0; i < words.Count; i++)
        {
            var end = i + 1 < words.Count ? words[i + 1].Start : line.Length;
            if (i == 0 && GlobalArguments.LooksLikeAddress(words[i].Text) && end < line.Length)
                cut.Add((words[i].Start, end));
            else if (words[i].Text == "--api" && i + 1 < words.Count)
                cut.Add((words[i].Start, i + 2 < words.Count ? words[i + 2].Start : line.Length));
            else if (words[i].Text.StartsWith("--api=", StringComparison.Ordinal) && end < line.Length)
                cut.Add((words[i].Start, end));
        }

        var result = line;
        foreach (var (start, end) in cut.OrderByDescending(c => c.Start))
            result = result[..start] + result[end..];
        return result.TrimStart();
    }
}
