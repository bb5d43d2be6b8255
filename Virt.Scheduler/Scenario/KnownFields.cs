using System.Text.Json;
using F23.StringSimilarity;

namespace Virt.Scheduler;

/// <summary>Unknown fields are errors, never dropped: the message names the field and the nearest known one.</summary>
internal static class KnownFields
{
    private static readonly OptimalStringAlignment Osa = new(); // F23.StringSimilarity: edits, a swap of neighbours counting one

    /// <param name="elsewhere">Fields that exist, but not here (another rule or action kind), with where they belong.</param>
    public static void Check(JsonElement obj, string what, IReadOnlyCollection<string> known, IReadOnlyDictionary<string, string>? elsewhere = null)
    {
        foreach (var p in obj.EnumerateObject())
        {
            if (known.Contains(p.Name))
                continue;
            if (elsewhere?.GetValueOrDefault(p.Name) is { } belongs)
                throw new ScenarioException($"{what}: field '{p.Name}' belongs to {belongs}; here the fields are {string.Join(", ", known)}");
            throw new ScenarioException($"{what}: unknown field '{p.Name}'; the nearest known one is '{Nearest(p.Name, known)}' (known: {string.Join(", ", known)})");
        }
    }

    /// <summary>The known name with the smallest edit distance (case-insensitive), ties to the first listed.</summary>
    public static string Nearest(string name, IEnumerable<string> known) =>
        known.OrderBy(k => Osa.Distance(name.ToLowerInvariant(), k.ToLowerInvariant())).First();
}
