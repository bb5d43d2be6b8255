using System.Text;
using Virt.Shell.Palettes;
using Virt.Shell.Parsing;

namespace Virt.Shell.Output;

/// <summary><c>virt help</c>, <c>help vm</c>, <c>help vm start</c>: written from the palettes in force, so a node's new palette is described too.</summary>
internal static class HelpText
{
    public static string For(Palettes.Palettes palettes, HelpRequest request) => request switch
    {
        { Palette: null } => Overview(palettes),
        { Command: null } => OfPalette(request.Palette),
        _ => OfCommand(request.Palette, request.Command),
    };

    private static string Overview(Palettes.Palettes palettes)
    {
        var sb = new StringBuilder();
        sb.AppendLine("virt: the Virt shell. Talks to any virt-node over HTTP; its commands come from the node's palettes.");
        sb.AppendLine();
        sb.AppendLine("Usage: virt [HOST:PORT] COMMAND [ARGUMENTS] [OPTIONS]   run one command");
        sb.AppendLine("       virt [HOST:PORT]                               the interactive shell (Tab completes, Ctrl-R searches history)");
        sb.AppendLine("       The node is HOST:PORT, else --api HOST:PORT, else $VIRT_API, else 127.0.0.1:9110.");
        sb.AppendLine();
        var where = palettes.FromNode ? $"from {palettes.Document.Node ?? "the node"}" : "built in: no node answered";
        sb.AppendLine($"Commands ({where}):");
        var rows = palettes.All.SelectMany(p => p.Commands.Select(c => (Words: Words(p, c), c.Description))).ToList();
        var shell = new List<(string Words, string Description)>
        {
            ("help [PALETTE [COMMAND]]", "This help, or a palette's or a command's."),
            ("completion bash|zsh|fish", "A completion script for your shell (source it)."),
            ("connect HOST:PORT", "In the interactive shell: talk to another node."),
            ("exit", "Leave the interactive shell (or Ctrl-D)."),
        };
        var width = rows.Concat(shell).Max(r => r.Words.Length);
        foreach (var (words, description) in rows)
            sb.AppendLine($"  {words.PadRight(width)}  {description}");
        sb.AppendLine();
        sb.AppendLine("Shell:");
        foreach (var (words, description) in shell)
            sb.AppendLine($"  {words.PadRight(width)}  {description}");
        sb.AppendLine();
        sb.AppendLine("Every command takes --json. Exit status: 0 done, 1 refused by virt-node (its message is printed),");
        sb.Append("2 bad command line, 3 virt-node unreachable, 4 --wait timed out.");
        return sb.ToString();
    }

    private static string OfPalette(Palette palette)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{palette.Name}: {palette.Description}");
        sb.AppendLine();
        var width = palette.Commands.Max(c => Words(palette, c).Length);
        foreach (var c in palette.Commands)
            sb.AppendLine($"  {Words(palette, c).PadRight(width)}  {c.Description}");
        sb.AppendLine();
        sb.Append($"'virt help {palette.Name} COMMAND' describes a command's options.");
        return sb.ToString();
    }

    private static string OfCommand(Palette palette, PaletteCommand command)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Usage: {Palettes.Palettes.Usage(palette, command)}");
        sb.AppendLine();
        sb.AppendLine(command.Description);
        var arguments = Palettes.Palettes.Arguments(command);
        var options = Palettes.Palettes.Options(command);
        var rows = arguments.Select(a => (Left: a.Name, a.Description, Parameter: a))
            .Concat(options.Select(o => (Left: string.Join(", ", (o.Aliases ?? []).Append(o.Name)) + Value(o), o.Description, Parameter: o)))
            .ToList();
        var width = rows.Max(r => r.Left.Length);
        if (arguments.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Arguments:");
            foreach (var row in rows.Where(r => arguments.Contains(r.Parameter)))
                sb.AppendLine($"  {row.Left.PadRight(width)}  {Describe(row.Parameter)}");
        }

        sb.AppendLine();
        sb.AppendLine("Options:");
        foreach (var row in rows.Where(r => options.Contains(r.Parameter)))
            sb.AppendLine($"  {row.Left.PadRight(width)}  {Describe(row.Parameter)}");
        return sb.ToString().TrimEnd();
    }

    private static string Words(Palette palette, PaletteCommand command)
    {
        var words = command.Name.Length == 0 ? palette.Name : $"{palette.Name} {command.Name}";
        var arguments = Palettes.Palettes.Arguments(command);
        return arguments.Count == 0 ? words : $"{words} {string.Join(' ', arguments.Select(a => a.Name))}";
    }

    private static string Value(Parameter option) => option.Type switch
    {
        "flag" => "",
        "int" => " N",
        "size" => " SIZE",
        "duration" => " DURATION",
        "choice" when option.Choices is { } c => $" {string.Join('|', c)}",
        "file" or "json-file" => " FILE",
        _ => " " + option.Name.TrimStart('-').ToUpperInvariant(),
    };

    private static string Describe(Parameter parameter)
    {
        var text = parameter.Description ?? "";
        if (parameter.Default is { } d)
            text += $" (default {d})";
        return text;
    }
}
