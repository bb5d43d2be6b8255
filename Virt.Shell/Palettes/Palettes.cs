namespace Virt.Shell.Palettes;

/// <summary>The commands in force: the node's palette document (or the built-in copy) plus the options every command gets.</summary>
internal sealed class Palettes(PaletteDocument document, bool fromNode)
{
    public PaletteDocument Document { get; } = document;

    /// <summary>False when the node did not answer and these are the built-in palettes.</summary>
    public bool FromNode { get; } = fromNode;

    public IReadOnlyList<Palette> All => Document.Palettes;

    public Palette? Find(string name) => Document.Palettes.FirstOrDefault(p => p.Name == name);

    public CompletionSource? Source(string? name) =>
        name is not null && Document.Completions is { } sources && sources.TryGetValue(name, out var source) ? source : null;

    /// <summary>Whether <paramref name="other"/> offers the same commands (a node that gained or lost one does not).</summary>
    public bool SameCommands(Palettes other) => Names(this).SequenceEqual(Names(other));

    private static IEnumerable<string> Names(Palettes palettes) => palettes.All.SelectMany(p => p.Commands.Select(c => $"{p.Name} {c.Name}"));

    public static PaletteCommand? Direct(Palette palette) => palette.Commands.FirstOrDefault(c => c.Name.Length == 0);

    public static IReadOnlyList<Parameter> Arguments(PaletteCommand command) => command.Arguments ?? [];

    /// <summary>The command's own options, then the ones the shell adds: --json everywhere, --wait/--timeout where the node says what to wait for, --follow where it streams, --help.</summary>
    public static IReadOnlyList<Parameter> Options(PaletteCommand command)
    {
        var options = new List<Parameter>(command.Options ?? []);
        if (command.Wait is { } wait)
        {
            options.Add(Standard(StandardOption.Wait, "flag", $"Wait until {wait.Field} is {string.Join(" or ", wait.Until)}."));
            options.Add(Standard(StandardOption.Timeout, "int", "Seconds to --wait (default 120).", aliases: null));
        }

        if (command.Follow is not null)
        {
            var shortName = options.Any(o => o.Aliases?.Contains("-f") ?? false) ? null : new List<string> { "-f" };
            options.Add(Standard(StandardOption.Follow, "flag", "Keep printing new items as they happen (Ctrl+C stops).", aliases: shortName));
        }
        if (command.Watch is { } every)
            options.Add(Standard(StandardOption.Watch, "flag", $"Ask again every {every.Seconds} s and redraw in place (Ctrl+C stops)."));
        options.Add(Standard(StandardOption.Json, "flag", command.Follow is null ? "Print the answer as JSON." : "Print one JSON object per line."));
        options.Add(Standard(StandardOption.Help, "flag", "Show this command's help.", aliases: ["-h"]));
        return options;
    }

    public static string Usage(Palette palette, PaletteCommand command)
    {
        var words = new List<string> { "virt", palette.Name };
        if (command.Name.Length > 0)
            words.Add(command.Name);
        words.AddRange(Arguments(command).Select(a => (a.Required ? a.Name : $"[{a.Name}]") + (a.Repeat ? "..." : "")));
        words.Add("[options]");
        return string.Join(' ', words);
    }

    private static Parameter Standard(string name, string type, string description, List<string>? aliases = null) =>
        new(name, aliases, type, null, false, false, null, description, null, null);
}

/// <summary>Options the shell gives commands itself.</summary>
internal static class StandardOption
{
    public const string Json = "--json";
    public const string Help = "--help";
    public const string Wait = "--wait";
    public const string Timeout = "--timeout";
    public const string Follow = "--follow";
    public const string Watch = "--watch";
    public const int TimeoutSecondsDefault = 120;
}
