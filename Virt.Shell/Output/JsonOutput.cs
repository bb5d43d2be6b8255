using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Virt.Shell.Output;

/// <summary>--json output: indented, and without HTML escaping ("+01:00", not "\u002B01:00"), since it goes to a terminal or a script.</summary>
internal static class JsonOutput
{
    public static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Print(JsonNode node) => Console.WriteLine(node.ToJsonString(Pretty));
}
