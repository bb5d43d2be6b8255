using System.Text.Json;

namespace Virt.Scheduler;

/// <summary>Unknown fields are errors, never dropped: the message names the field and the nearest known one.</summary>
internal static class KnownFields
{
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
        known.OrderBy(k => Distance(name.ToLowerInvariant(), k.ToLowerInvariant())).First();

    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
