using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Virt.Actors.Vm;

namespace Virt.Node.Api;

/// <summary>
/// A spec as a request body: the same fields <see cref="VmRequest"/> reads (durations as "30s", absent values left
/// out), so what <c>GET /v1/vms/NAME/spec</c> gives can be edited and sent back with PUT as it is.
/// </summary>
internal static class SpecDocument
{
    private static readonly JsonSerializerOptions Options = new(ApiJson.Options) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static JsonObject Of(VmSpec spec)
    {
        var document = JsonSerializer.SerializeToNode(spec, Options)!.AsObject();
        if (spec.Labels is null or { Count: 0 })
            document.Remove("labels");
        return document;
    }

    /// <summary>
    /// <paramref name="patch"/> merged onto <paramref name="spec"/> as a JSON merge patch (RFC 7396): fields given
    /// replace the spec's, lists are replaced whole, <c>null</c> removes (a label: <c>"labels": {"tier": null}</c>).
    /// <c>memory</c> in the patch replaces the spec's <c>memoryMib</c>.
    /// </summary>
    public static JsonObject Merge(VmSpec spec, JsonElement patch)
    {
        var document = Of(spec);
        if (patch.TryGetProperty("memory", out _))
            document.Remove("memoryMib");
        Merge(document, JsonNode.Parse(patch.GetRawText())!.AsObject());
        return document;
    }

    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            patch.Remove(key);
            if (value is null)
                target.Remove(key);
            else if (value is JsonObject inner)
                Merge(target[key] as JsonObject ?? (JsonObject)(target[key] = new JsonObject()), inner);
            else
                target[key] = value;
        }
    }
}
