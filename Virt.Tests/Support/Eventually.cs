namespace Virt.Tests.Support;

/// <summary>Waits for an observable condition with a deadline (never a sleep standing in for synchronisation).</summary>
public static class Eventually
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    /// <summary>Probes until <paramref name="done"/> holds; returns the value that satisfied it.</summary>
    public static Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, string what, double seconds = 20) =>
        Until(probe, done, what, seconds, null);

    /// <summary>As above; on timeout, <paramref name="explain"/> adds what the test knows of why (logs, other state).</summary>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, string what, double seconds, Func<Task<string>>? explain)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await probe();
            if (done(value))
                return value;
            if (DateTime.UtcNow > deadline)
            {
                var why = explain is null ? "" : "\n" + await explain();
                throw new Xunit.Sdk.XunitException($"timed out after {seconds} s waiting until {what}; last seen: {Show(value)}{why}");
            }

            await Task.Delay(Poll);
        }
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => s,
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Show)) + "]",
        _ => value.ToString() ?? "",
    };

    public static Task Until(Func<Task<bool>> condition, string what, double seconds = 20) =>
        Until(condition, ok => ok, what, seconds);

    public static Task Until(Func<bool> condition, string what, double seconds = 20) =>
        Until(() => Task.FromResult(condition()), ok => ok, what, seconds);
}
