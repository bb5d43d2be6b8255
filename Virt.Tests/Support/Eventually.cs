namespace Virt.Tests.Support;

/// <summary>Waits for an observable condition with a deadline (never a sleep standing in for synchronisation).</summary>
public static class Eventually
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    /// <summary>Probes until <paramref name="done"/> holds; returns the value that satisfied it.</summary>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, string what, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await probe();
            if (done(value))
                return value;
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"timed out after {seconds} s waiting until {what}; last seen: {value}");
            await Task.Delay(Poll);
        }
    }

    public static Task Until(Func<Task<bool>> condition, string what, double seconds = 20) =>
        Until(condition, ok => ok, what, seconds);

    public static Task Until(Func<bool> condition, string what, double seconds = 20) =>
        Until(() => Task.FromResult(condition()), ok => ok, what, seconds);
}
