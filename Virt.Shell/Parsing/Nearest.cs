namespace Virt.Shell.Parsing;

/// <summary>"Did you mean": the known word closest to a mistyped one, when it is close enough to be a likely typo.</summary>
internal static class Nearest
{
    public static string? To(string word, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = candidate.StartsWith(word, StringComparison.Ordinal) && word.Length >= 2 ? 1 : Distance(word, candidate);
            if (distance < bestDistance)
                (best, bestDistance) = (candidate, distance);
        }

        return bestDistance <= Math.Max(1, Math.Min(3, word.Length / 3)) ? best : null;
    }

    public static string Hint(string word, IEnumerable<string> known) => To(word, known) is { } near ? $"; did you mean '{near}'?" : "";

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
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
