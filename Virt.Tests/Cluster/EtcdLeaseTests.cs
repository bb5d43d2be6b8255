using System.Diagnostics;
using Akka.Coordination;
using Virt.Actors.Cluster;
using Virt.Tests.Support;
using static Virt.Tests.Cluster.EtcdLeaseRig;

namespace Virt.Tests.Cluster;

/// <summary>
/// <see cref="EtcdLease"/> against a real 3-member etcd of its own per test: several Lease instances contend as
/// several nodes would; holders die, are cut off from etcd, and etcd loses its quorum.
/// </summary>
public sealed class EtcdLeaseTests : IAsyncLifetime
{
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task Of_several_contenders_exactly_one_holds_the_lease_at_a_time_and_etcd_names_it()
    {
        using var kit = Kit(Config(Block(_etcd)));
        var name = NewName();
        var leases = Enumerable.Range(1, 5).Select(i => Lease(kit.Sys, name, $"node-{i}:4053")).ToList();
        Assert.Equal(5, leases.Distinct().Count());

        for (var round = 1; round <= 3; round++)
        {
            var won = await Task.WhenAll(leases.Select(l => l.Acquire()));
            var winner = Assert.Single(leases.Where((_, i) => won[i]));
            Assert.Equal([winner], leases.Where(l => l.CheckLease()));
            Assert.Equal(winner.Settings.OwnerName, await _etcd.OwnerAsync(winner.Key));

            // The others keep trying while the winner renews past the deadline of its grant: still only one.
            var granted = winner.Deadline!.Value;
            var others = leases.Where(l => l != winner).ToList();
            await Eventually.Until(async () =>
            {
                Assert.All(await Task.WhenAll(others.Select(l => l.Acquire())), Assert.False);
                Assert.Equal([winner], leases.Where(l => l.CheckLease()));
                return winner.Deadline > granted + Interval;
            }, $"round {round}: the winner's keepalives are acknowledged while the others contend");

            Assert.True(await winner.Release());
        }
    }

    [Fact]
    public async Task A_holder_that_dies_keeps_the_lease_until_etcd_expires_it_and_an_acquire_meanwhile_waits_for_that_and_wins()
    {
        using var kit = Kit(Config(Block(_etcd)));
        var holderKit = Kit(Config(Block(_etcd)), "holder");
        var name = NewName();
        var holder = Lease(holderKit.Sys, name, "holder:4053");
        var other = Lease(kit.Sys, name, "other:4053");
        Assert.True(await holder.Acquire());
        Assert.False(await other.Acquire()); // a holder that renews: refused at once
        using var client = _etcd.Client();
        var holderLease = (await client.GetAsync(other.Key)).Kvs.Single().Lease;

        await holderKit.Sys.Terminate(); // stops renewing and releases nothing, as a crash would
        holderKit.Dispose();

        // Once etcd shows it behind on its renewals, an acquire waits for etcd to expire the dead holder's lease and
        // wins (the split brain resolver reverses its decision on a refusal), and never while that lease lives.
        await Eventually.Until(async () =>
        {
            var live = await client.LeaseTimeToLiveAsync(new Etcdserverpb.LeaseTimeToLiveRequest { ID = holderLease });
            return TimeSpan.FromSeconds(live.GrantedTTL - live.TTL) > Interval * 2;
        }, "etcd counts the dead holder's lease down, unrenewed", seconds: Ttl.TotalSeconds + 5);
        Assert.Equal("holder:4053", await _etcd.OwnerAsync(other.Key));
        Assert.True(await other.Acquire());
        Assert.True((await client.LeaseTimeToLiveAsync(new Etcdserverpb.LeaseTimeToLiveRequest { ID = holderLease })).TTL < 0, "the dead holder's etcd lease was still alive when another acquired the key");
        Assert.Equal("other:4053", await _etcd.OwnerAsync(other.Key));
    }

    [Fact]
    public async Task A_holder_cut_off_from_etcd_is_told_it_lost_the_lease_before_etcd_can_give_it_to_another()
    {
        // The holder talks only to member 0, the other only to members 1 and 2 (which keep the quorum).
        using var kit = Kit(Config(Block(_etcd, "virt.test.lease-via-0", 0), Block(_etcd, "virt.test.lease-via-1-2", 1, 2)));
        var name = NewName();
        var holder = Lease(kit.Sys, name, "holder:4053", "virt.test.lease-via-0");
        var other = Lease(kit.Sys, name, "other:4053", "virt.test.lease-via-1-2");
        var lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(await holder.Acquire(e => lost.TrySetResult(e)));
        Assert.False(await other.Acquire());

        _etcd.Pause(0);
        var holderToldFirst = false;
        await Eventually.Until(async () =>
        {
            if (!await TryAcquire(other))
                return false;
            holderToldFirst = lost.Task.IsCompleted && !holder.CheckLease();
            return true;
        }, "the other acquires the lease once etcd expires the cut-off holder's", seconds: 30);

        Assert.True(holderToldFirst, "when the other acquired the lease, the cut-off holder had not yet been told it lost it");
        Assert.Contains("no keepalive acknowledged", (await lost.Task).Message);
        Assert.False(holder.CheckLease());
        Assert.Equal("other:4053", await _etcd.OwnerAsync(other.Key, 1, 2));
    }

    [Fact]
    public async Task A_release_lets_another_acquire_at_once_and_the_released_holder_is_never_told_of_a_loss()
    {
        using var kit = Kit(Config(Block(_etcd)));
        var name = NewName();
        var first = Lease(kit.Sys, name, "first:4053");
        var second = Lease(kit.Sys, name, "second:4053");
        var lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(await first.Acquire(e => lost.TrySetResult(e)));
        Assert.False(await second.Acquire());
        var firstDeadline = first.Deadline!.Value;

        Assert.True(await first.Release());
        Assert.False(first.CheckLease());
        Assert.True(await second.Acquire()); // one try: the key went with the release
        Assert.Equal("second:4053", await _etcd.OwnerAsync(second.Key));

        // Past the moment the first holder's renewals would have run out, nothing told it the lease was lost.
        await Eventually.Until(() => second.Deadline > firstDeadline + Interval, "the second holder renews past the first one's old deadline");
        Assert.False(lost.Task.IsCompleted, "a released lease was reported lost");
        Assert.True(await first.Release()); // releasing what is not held is not an error
    }

    [Fact]
    public async Task When_etcd_loses_its_quorum_the_holder_is_told_it_lost_the_lease_and_nobody_wins_it_until_etcd_is_back()
    {
        using var kit = Kit(Config(Block(_etcd)));
        var name = NewName();
        var holder = Lease(kit.Sys, name, "holder:4053");
        var other = Lease(kit.Sys, name, "other:4053");
        var lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(await holder.Acquire(e => lost.TrySetResult(e)));

        _etcd.Pause(1);
        _etcd.Pause(2);
        var outage = Stopwatch.StartNew();
        var attempts = 0;

        // Keep contending until the holder has been told and well past the TTL of its last keepalive.
        while (!lost.Task.IsCompleted || outage.Elapsed < Ttl + TimeSpan.FromSeconds(2))
        {
            Assert.True(outage.Elapsed < TimeSpan.FromSeconds(30), "the holder was not told of the loss while etcd had no quorum");
            Assert.False(await TryAcquire(other), "the lease was won while etcd had no quorum");
            attempts++;
        }

        Assert.False(holder.CheckLease());
        Assert.True(attempts > 0);

        _etcd.Resume(1);
        _etcd.Resume(2);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_etcd.WaitHealthyAsync));
        await Eventually.Until(() => TryAcquire(other), "with the quorum back, the lost holder's etcd lease expires and the other acquires it", seconds: 30);
        Assert.Equal("other:4053", await _etcd.OwnerAsync(other.Key));
    }

    [Fact]
    public async Task A_release_asked_for_while_an_acquire_is_under_way_releases_what_that_acquire_took()
    {
        // ClusterSingletonManager does this when it leaves AcquiringLease with a request in flight.
        using var kit = Kit(Config(Block(_etcd)));
        var name = NewName();
        var lease = Lease(kit.Sys, name, "leaving:4053");
        var acquiring = lease.Acquire();
        var releasing = lease.Release();

        Assert.True(await acquiring);
        Assert.True(await releasing);
        Assert.False(lease.CheckLease());
        Assert.Null(await _etcd.OwnerAsync(lease.Key));
        Assert.True(await Lease(kit.Sys, name, "next:4053").Acquire());
    }

    [Fact]
    public async Task A_node_restarted_at_the_same_address_takes_its_own_lease_back_at_once_and_no_one_else_can()
    {
        var name = NewName();
        var before = Kit(Config(Block(_etcd)), "before-restart");
        Assert.True(await Lease(before.Sys, name, "n1:4053").Acquire());
        await before.Sys.Terminate(); // a crash: the key stays until its etcd lease expires
        before.Dispose();

        using var after = Kit(Config(Block(_etcd)), "after-restart");
        Assert.Equal("n1:4053", await _etcd.OwnerAsync(Lease(after.Sys, name, "n2:4053").Key));
        var again = Lease(after.Sys, name, "n1:4053");
        Assert.True(await again.Acquire());

        // It is a holding like any other: renewed past the dead incarnation's TTL, still refusing others.
        var granted = again.Deadline!.Value;
        await Eventually.Until(() => again.Deadline > granted + Ttl, "the taken-back lease is renewed past the old etcd lease's TTL");
        Assert.False(await Lease(after.Sys, name, "n2:4053").Acquire());
        Assert.Equal("n1:4053", await _etcd.OwnerAsync(again.Key));
    }

    /// <summary>An acquire that may not reach etcd: a LeaseException ("might not have been able to") counts as not won.</summary>
    private static async Task<bool> TryAcquire(Lease lease)
    {
        try
        {
            return await lease.Acquire();
        }
        catch (LeaseException)
        {
            return false;
        }
    }
}
