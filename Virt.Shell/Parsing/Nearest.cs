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

        return bestDistance <= (word.Length <= 4 ? 1 : 2) ? best : null;
    }

    public static string Hint(string word, IEnumerable<string> known) => To(word, known) is { } near ? $"; did you mean '{near}'?" : "";

    /// <summary>Edits (insert, delete, replace, swap of neighbours) from <paramref name="a"/> to <paramref name="b"/>.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }

        return d[a.Length, b.Length];
    }
}
