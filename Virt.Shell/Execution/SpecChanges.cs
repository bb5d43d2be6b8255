using System.Text.Json.Nodes;
using Virt.Shell.Output;

namespace Virt.Shell.Execution;

/// <summary>The fields that differ between two spec documents, each as <c>field: before -> after</c> (labels by key).</summary>
internal static class SpecChanges
{
    public static List<string> Between(JsonObject before, JsonObject after)
    {
        var changes = new List<string>();
        Compare("", before, after, changes);
        return changes;
    }

    private static void Compare(string prefix, JsonObject before, JsonObject after, List<string> changes)
    {
        foreach (var key in before.Select(p => p.Key).Union(after.Select(p => p.Key)).Order(StringComparer.Ordinal))
        {
            var (a, b) = (before[key], after[key]);
            if (JsonNode.DeepEquals(a, b))
                continue;
            if (a is JsonObject ao && b is JsonObject bo)
                Compare(prefix + key + ".", ao, bo, changes);
            else
                changes.Add($"{prefix}{key}: {Text(a)} -> {Text(b)}");
        }
    }

    private static string Text(JsonNode? node) => node is null ? "(none)" : node.ToJsonString(JsonOutput.Compact);
}
