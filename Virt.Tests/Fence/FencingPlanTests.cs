using Virt.Actors.Fencing;

namespace Virt.Tests.Fence;

public sealed class FencingPlanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Levels_are_tried_in_order_and_the_round_stops_at_the_first_that_confirms()
    {
        string[] levels = ["power", "storage", "watchdog"];
        var tried = new List<(string, FenceOutcome)>();
        Assert.Equal("power", FencingPlan.NextLevel(levels, tried));
        tried.Add(("power", FenceOutcome.NotDone("no agent")));
        Assert.Equal("storage", FencingPlan.NextLevel(levels, tried));
        tried.Add(("storage", FenceOutcome.Done("blocklisted")));
        Assert.Null(FencingPlan.NextLevel(levels, tried));

        var result = FencingPlan.Conclude("hv-3", levels, tried, TimeSpan.FromSeconds(5));
        Assert.Equal(("storage", "blocklisted", (TimeSpan?)null), (result.Level, result.Text, result.RetryIn));
    }

    [Fact]
    public void A_round_that_confirms_nothing_names_every_levels_reason_and_retries_when_the_soonest_level_says()
    {
        string[] levels = ["power", "watchdog"];
        var tried = new List<(string, FenceOutcome)> { ("power", FenceOutcome.NotDone("status still on")), ("watchdog", FenceOutcome.NotDone("resets it in 2 s", TimeSpan.FromSeconds(2))) };
        Assert.Null(FencingPlan.NextLevel(levels, tried));
        var result = FencingPlan.Conclude("hv-3", levels, tried, TimeSpan.FromSeconds(5));
        Assert.False(result.Confirmed);
        Assert.Equal("power: status still on; watchdog: resets it in 2 s", result.Text);
        Assert.Equal(TimeSpan.FromSeconds(2), result.RetryIn);

        var longWait = FencingPlan.Conclude("hv-3", levels, [("power", FenceOutcome.NotDone("x")), ("watchdog", FenceOutcome.NotDone("y", TimeSpan.FromMinutes(1)))], TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromSeconds(5), longWait.RetryIn);
    }

    [Fact]
    public void Without_levels_the_operator_is_told_how_to_confirm()
    {
        var result = FencingPlan.Conclude("hv-3", [], [], TimeSpan.FromSeconds(5));
        Assert.False(result.Confirmed);
        Assert.Contains("virt node confirm-fenced hv-3", result.Text);
    }

    [Fact]
    public void A_record_answers_for_its_incarnation_and_an_unknown_one_means_the_latest_the_host_reported()
    {
        var old = new FenceRecord("hv-3", 7, T0, "downed", T0) { Confirmed = new FenceConfirmation("power", "off", T0) };
        var current = new FenceRecord("hv-3", 9, T0.AddHours(1), "downed", T0.AddHours(1));
        FenceRecord[] records = [old, current];

        Assert.Same(old, FencingPlan.For(records, "hv-3", 7, latestKnown: 9));
        Assert.Same(current, FencingPlan.For(records, "hv-3", 0, latestKnown: 9)); // not the old, confirmed one
        Assert.Null(FencingPlan.For(records, "hv-3", 0, latestKnown: 11)); // a newer incarnation: a fence is still to be asked for
        Assert.Null(FencingPlan.For(records, "hv-2", 7, latestKnown: 7));

        Assert.True(FencingPlan.Covers(old, "hv-3", 7));
        Assert.False(FencingPlan.Covers(old, "hv-3", 9));
        Assert.True(FencingPlan.Covers(old, "hv-3", 0));
    }
}
