using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Virt.Shell.Output;

/// <summary>--json output, without HTML escaping ("+01:00", not "\u002B01:00"), since it goes to a terminal or a script.</summary>
internal static class JsonOutput
{
    public static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One line per object, for streams (JSON Lines).</summary>
    public static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Print(JsonNode? node) => Console.Out.WriteLine(node?.ToJsonString(Pretty) ?? "null");

    public static void Line(JsonNode? node) => Console.Out.WriteLine(node?.ToJsonString(Compact) ?? "null");
}
