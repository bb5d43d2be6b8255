using System.Text.Json;
using System.Text.Json.Serialization;

namespace Virt.Shell.Palettes;

/// <summary>Source-generated JSON for the palette document (nothing is reflected over, so Native AOT keeps it whole).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(PaletteDocument))]
internal sealed partial class PaletteJson : JsonSerializerContext
{
    public static PaletteDocument Read(string json) =>
        JsonSerializer.Deserialize(json, Default.PaletteDocument) ?? throw new JsonException("the palette document is null");
}
