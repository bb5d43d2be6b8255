using Akka.Event;
using Virt.Actors.Cluster;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

/// <summary>
/// The local deadline of a holding under a clock the test moves, with etcd's keepalive answers played by the test:
/// one tick before the deadline nothing happens, at it the lease is lost.
/// </summary>
public sealed class EtcdLeaseTenureTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);
    private readonly ManualTimeProvider _time = new();
    private readonly TaskCompletionSource<long> _unanswered = new();
    private long _answerTtl = 4;
    private bool _answering = true;
    private int _keepalives;

    private EtcdLeaseTenure Tenure(TimeSpan grantSent) => new("test", 1, grantSent, Ttl, Interval, Margin, (_, _) =>
    {
        _keepalives++;
        return _answering ? Task.FromResult(_answerTtl) : _unanswered.Task;
    }, _time, NoLogger.Instance);

    [Fact]
    public async Task The_lease_is_lost_at_the_last_acknowledged_send_plus_ttl_minus_margin_and_not_a_tick_earlier()
    {
        var t0 = EtcdLeaseTenure.Now(_time);
        var tenure = Tenure(t0);
        Assert.Equal(t0 + TimeSpan.FromSeconds(3), tenure.Deadline);
        var lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        tenure.Hold(e => lost.TrySetResult(e), Task.CompletedTask);

        _time.Advance(Interval); // keepalive sent at t0+1s, acknowledged
        Assert.Equal(t0 + TimeSpan.FromSeconds(4), tenure.Deadline);

        _answering = false; // from now on etcd does not answer
        _time.Advance(Interval);
        Assert.Equal(2, _keepalives);
        _time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        Assert.True(tenure.IsValid);
        Assert.False(lost.Task.IsCompleted);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.False(tenure.IsValid);
        Assert.Contains("no keepalive acknowledged by etcd", (await lost.Task.WaitAsync(TimeSpan.FromSeconds(10))).Message);
        Assert.Equal(0, _time.ActiveTimers);
    }

    [Fact]
    public async Task The_lost_callback_waits_for_the_acquire_that_handed_the_lease_out()
    {
        var tenure = Tenure(EtcdLeaseTenure.Now(_time));
        _answering = false;
        var acquireReturned = new TaskCompletionSource();
        var lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        tenure.Hold(e => lost.TrySetResult(e), acquireReturned.Task);

        _time.Advance(Ttl);
        Assert.False(tenure.IsValid);
        Assert.False(lost.Task.IsCompleted);

        acquireReturned.SetResult();
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Etcd_saying_the_lease_is_gone_loses_it_at_once()
    {
        var tenure = Tenure(EtcdLeaseTenure.Now(_time));
        var lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        tenure.Hold(e => lost.TrySetResult(e), Task.CompletedTask);
        _answerTtl = 0;

        _time.Advance(Interval);
        Assert.False(tenure.IsValid);
        Assert.Contains("has expired", (await lost.Task.WaitAsync(TimeSpan.FromSeconds(10))).Message);
    }

    [Fact]
    public void An_ended_holding_renews_no_more_and_tells_no_one()
    {
        var tenure = Tenure(EtcdLeaseTenure.Now(_time));
        var told = false;
        tenure.Hold(_ => told = true, Task.CompletedTask);
        _time.Advance(Interval);
        Assert.Equal(1, _keepalives);

        tenure.End();
        _time.Advance(Ttl * 3);
        Assert.Equal(1, _keepalives);
        Assert.False(tenure.IsValid);
        Assert.False(told);
        Assert.Equal(0, _time.ActiveTimers);
    }
}
