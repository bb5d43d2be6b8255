using Virt.Shell.Palettes;

namespace Virt.Shell.Parsing;

/// <summary>A command line read against the palettes: the command and the values given, by parameter name (<c>NAME</c>, <c>--vcpus</c>).</summary>
internal sealed record ParsedCommand(Palette Palette, PaletteCommand Command, IReadOnlyDictionary<string, List<string>> Values)
{
    public string Title => Command.Name.Length == 0 ? Palette.Name : $"{Palette.Name} {Command.Name}";

    public bool Flag(string option) => Values.ContainsKey(option);

    public string? Value(string name) => Values.TryGetValue(name, out var list) ? list[^1] : null;
}

/// <summary><c>help</c>, <c>help vm</c>, <c>vm start --help</c>: what to describe (null: everything).</summary>
internal sealed record HelpRequest(Palette? Palette, PaletteCommand? Command);
