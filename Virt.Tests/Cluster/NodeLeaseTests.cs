using Microsoft.Extensions.Logging.Abstractions;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.InProcess;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

/// <summary>The local lease deadline under a clock the test moves: one tick before it nothing happens, at it the lease is lost.</summary>
public sealed class NodeLeaseTests : IAsyncLifetime
{
    private static readonly LeaseSettings Settings = new(Ttl: TimeSpan.FromSeconds(4), KeepaliveInterval: TimeSpan.FromSeconds(1), SafetyMargin: TimeSpan.FromSeconds(1));
    private readonly ManualTimeProvider _time = new();
    private InMemoryCoordination _store = null!;
    private Partitionable _link = null!;

    public Task InitializeAsync()
    {
        _store = new InMemoryCoordination(_time);
        _link = new Partitionable(_store);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task Lease_lost_fires_at_the_last_acknowledged_send_plus_ttl_minus_margin_and_not_a_tick_earlier()
    {
        var t0 = _time.GetUtcNow();
        await using var lease = await NodeLease.AcquireAsync(_link, Settings, _time, NullLogger.Instance);
        Assert.Equal(t0 + TimeSpan.FromSeconds(3), lease.Deadline);

        _time.Advance(TimeSpan.FromSeconds(1)); // keepalive sent at t0+1s, acknowledged
        await Eventually.Until(() => lease.Deadline == t0 + TimeSpan.FromSeconds(4), "the acknowledged keepalive moves the deadline");

        _link.Partitioned = true; // from now on keepalives get no answer
        _time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.Until(() => _link.KeepalivesLost == 1, "the next keepalive is on its way (and hangs)");

        _time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        Assert.False(lease.IsLost);
        Assert.Equal(t0 + TimeSpan.FromSeconds(4), lease.Deadline);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True(lease.IsLost);
        Assert.Contains("no keepalive acknowledged since", await lease.WhenLost);

        // The store received that keepalive no earlier than it was sent, so it still holds the lease for the margin.
        Assert.Equal(Settings.SafetyMargin, await _store.TimeToLiveAsync(lease.Id));
    }

    [Fact]
    public async Task Keepalives_that_keep_being_acknowledged_keep_the_lease_indefinitely()
    {
        var t0 = _time.GetUtcNow();
        await using var lease = await NodeLease.AcquireAsync(_link, Settings, _time, NullLogger.Instance);
        for (var i = 1; i <= 20; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            var expected = t0 + TimeSpan.FromSeconds(i + 3);
            await Eventually.Until(() => lease.Deadline == expected, $"keepalive {i} is acknowledged");
        }

        Assert.False(lease.IsLost);
    }

    [Fact]
    public async Task A_released_lease_is_not_reported_lost_and_its_keys_go_at_once()
    {
        var lease = await NodeLease.AcquireAsync(_link, Settings, _time, NullLogger.Instance);
        await _store.PutAsync("/virt/members/n1", [1], lease.Id);
        await lease.ReleaseAsync();
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(lease.IsLost);
        Assert.Null(await _store.GetAsync("/virt/members/n1"));
    }

    [Fact]
    public void Settings_that_cannot_keep_a_lease_are_refused_with_the_keys_to_change()
    {
        var tooSlow = Assert.Throws<ArgumentException>(() => new LeaseSettings(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1)).Validate());
        Assert.Contains("virt.cluster.keepalive-interval", tooSlow.Message);
        var margin = Assert.Throws<ArgumentException>(() => new LeaseSettings(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4)).Validate());
        Assert.Contains("virt.cluster.lease-safety-margin", margin.Message);
    }

    /// <summary>The store as seen over a link the test can cut: keepalives then never get an answer.</summary>
    private sealed class Partitionable(ICoordination inner) : DelegatingCoordination(inner)
    {
        private int _keepalives;

        public volatile bool Partitioned;

        /// <summary>Keepalives sent while partitioned.</summary>
        public int KeepalivesLost => Volatile.Read(ref _keepalives);

        public override async Task<TimeSpan> KeepAliveAsync(long lease, CancellationToken c = default)
        {
            if (Partitioned)
            {
                Interlocked.Increment(ref _keepalives);
                await Task.Delay(Timeout.Infinite, c);
            }

            return await base.KeepAliveAsync(lease, c);
        }
    }
}
