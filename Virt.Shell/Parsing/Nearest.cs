using F23.StringSimilarity;

namespace Virt.Shell.Parsing;

/// <summary>"Did you mean": the known word closest to a mistyped one, when it is close enough to be a likely typo.</summary>
internal static class Nearest
{
    private static readonly OptimalStringAlignment Osa = new(); // F23.StringSimilarity: edits, a swap of neighbours counting one

    public static string? To(string word, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = candidate.StartsWith(word, StringComparison.Ordinal) && word.Length >= 2 ? 1 : (int)Osa.Distance(word, candidate);
            if (distance < bestDistance)
                (best, bestDistance) = (candidate, distance);
        }

        return bestDistance <= (word.Length <= 4 ? 1 : 2) ? best : null;
    }

    public static string Hint(string word, IEnumerable<string> known) => To(word, known) is { } near ? $"; did you mean '{near}'?" : "";
}
