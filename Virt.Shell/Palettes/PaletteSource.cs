using System.Text.Json;

namespace Virt.Shell.Palettes;

/// <summary>Asks the node for its palettes; without an answer (unreachable, or a node older than <c>/v1/palettes</c>) the built-in copy stands in.</summary>
internal static class PaletteSource
{
    public const string Path = "/v1/palettes";

    public static async Task<Palettes> Load(ApiClient client, CancellationToken cancellationToken = default)
    {
        try
        {
            var answer = await client.GetIfPresent(Path, cancellationToken);
            if (answer is null)
                return new Palettes(BuiltinPalettes.Document, fromNode: false);
            return new Palettes(answer.Deserialize(PaletteJson.Default.PaletteDocument) ?? BuiltinPalettes.Document, fromNode: true);
        }
        catch (UnreachableException)
        {
            return new Palettes(BuiltinPalettes.Document, fromNode: false);
        }
        catch (Exception ex) when (ex is JsonException or ApiException)
        {
            await Console.Error.WriteLineAsync($"virt: the palettes of virt-node at {client.Address} cannot be read ({ex.Message}); using this virt's own");
            return new Palettes(BuiltinPalettes.Document, fromNode: false);
        }
    }

    public static Palettes Builtin() => new(BuiltinPalettes.Document, fromNode: false);
}
