using Virt.Actors.Fencing;
using Virt.Node.Fence;
using Virt.Tests.Support;

namespace Virt.Tests.Fence;

public sealed class WatchdogFenceLevelTests
{
    private static readonly DateTimeOffset Downed = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_host_with_an_armed_watchdog_counts_as_fenced_once_its_timeout_and_the_margin_have_passed_since_it_was_downed()
    {
        var time = new ManualTimeProvider(Downed.AddSeconds(3));
        var level = new WatchdogFenceLevel(TimeSpan.FromSeconds(5), time);
        var target = new FenceTarget("hv-3", 7, Downed, TimeSpan.FromSeconds(10));

        var early = await level.Fence(target, CancellationToken.None);
        Assert.False(early.Confirmed);
        Assert.Equal(TimeSpan.FromSeconds(12), early.RetryAfter);

        time.Advance(TimeSpan.FromSeconds(12));
        var due = await level.Fence(target, CancellationToken.None);
        Assert.True(due.Confirmed, due.Evidence);
        Assert.Contains("watchdog (10 s)", due.Evidence);
    }

    [Fact]
    public async Task A_host_that_never_armed_a_watchdog_is_not_fenced_by_waiting()
    {
        var level = new WatchdogFenceLevel(TimeSpan.FromSeconds(5), new ManualTimeProvider(Downed.AddHours(1)));
        var outcome = await level.Fence(new FenceTarget("hv-3", 7, Downed, null), CancellationToken.None);
        Assert.False(outcome.Confirmed);
        Assert.Contains("no armed watchdog", outcome.Evidence);
    }
}
