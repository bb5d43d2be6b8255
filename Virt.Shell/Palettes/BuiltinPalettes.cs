namespace Virt.Shell.Palettes;

/// <summary>
/// The palettes of this shell's own version, built in: used when no node answers (<c>virt plan</c>,
/// <c>virt completion</c>, <c>virt --help</c> offline) or when a node predates <c>/v1/palettes</c>.
/// </summary>
internal static class BuiltinPalettes
{
    private static PaletteDocument? _document;

    public static string Json()
    {
        using var stream = typeof(BuiltinPalettes).Assembly.GetManifestResourceStream("palettes.json")
            ?? throw new InvalidOperationException("the built-in palettes are missing from this build of virt");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static PaletteDocument Document => _document ??= PaletteJson.Read(Json());
}
