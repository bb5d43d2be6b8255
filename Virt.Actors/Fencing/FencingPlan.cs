namespace Virt.Actors.Fencing;

/// <summary>
/// The fencer's decisions, as plain functions: which level to try next (the configured ones in order, stopping at
/// the first that confirms, as Pacemaker's fencing topology does), what a round of levels concluded, when to try
/// again, and whether a record frees a VM that waits for a host.
/// </summary>
public static class FencingPlan
{
    /// <summary>The next level to try in this round, or null when the round is over (one confirmed, or all were tried).</summary>
    public static string? NextLevel(IReadOnlyList<string> levels, IReadOnlyList<(string Level, FenceOutcome Outcome)> tried) =>
        tried.Any(t => t.Outcome.Confirmed) ? null : levels.FirstOrDefault(l => tried.All(t => t.Level != l));

    /// <summary>What a finished round says: confirmed by a level, or not, with every level's reason and when to try again.</summary>
    public static RoundResult Conclude(string host, IReadOnlyList<string> levels, IReadOnlyList<(string Level, FenceOutcome Outcome)> tried, TimeSpan retryInterval)
    {
        if (tried.FirstOrDefault(t => t.Outcome.Confirmed) is { Level: { } level } confirmed)
            return new RoundResult(level, confirmed.Outcome.Evidence, null);
        if (levels.Count == 0)
            return new RoundResult(null, $"no fence level is configured for {host} (virt.fencing.levels); once it is off, say so with 'virt node confirm-fenced {host}'", retryInterval);
        var waits = tried.Select(t => t.Outcome.RetryAfter).OfType<TimeSpan>().Where(t => t > TimeSpan.Zero).ToList();
        var retry = waits.Count > 0 ? TimeSpan.FromTicks(Math.Min(waits.Min().Ticks, retryInterval.Ticks)) : retryInterval;
        return new RoundResult(null, string.Join("; ", tried.Select(t => $"{t.Level}: {t.Outcome.Evidence}")), retry);
    }

    /// <summary>Whether <paramref name="record"/> is the fence of the incarnation a VM waits for (0 on either side: the host as a whole).</summary>
    public static bool Covers(FenceRecord record, string host, long incarnation) =>
        record.Host == host && (incarnation == 0 || record.Incarnation == 0 || record.Incarnation == incarnation);

    /// <summary>
    /// The record that answers for <paramref name="host"/>'s <paramref name="incarnation"/>: that incarnation's, or for 0
    /// (not known) the one of the latest incarnation the host reported. Null: none yet, a fence is to be asked for.
    /// </summary>
    public static FenceRecord? For(IEnumerable<FenceRecord> records, string host, long incarnation, long latestKnown)
    {
        var wanted = incarnation != 0 ? incarnation : latestKnown;
        return records.Where(r => r.Host == host && (r.Incarnation == wanted || (wanted == 0 && r.Incarnation == 0)))
            .OrderByDescending(r => r.RequestedAt).FirstOrDefault();
    }
}

/// <param name="Level">The level that confirmed the fence; null: none did.</param>
/// <param name="Text">The evidence, or every level's reason for not confirming.</param>
/// <param name="RetryIn">When to try again (null once confirmed).</param>
public sealed record RoundResult(string? Level, string Text, TimeSpan? RetryIn)
{
    public bool Confirmed => Level is not null;
}
