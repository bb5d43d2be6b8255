using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Virt.Actors.Cluster.Coordination;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

/// <summary>
/// What every <see cref="ICoordination"/> must do, and the membership, lease and election code built on it, proven on
/// each backend. A backend's class says how to connect a client; every client of one test sees the same store.
/// Time is real (leases of 2 s, the shortest etcd grants with the test cluster's election timeout): these tests
/// observe expiry as it happens.
/// </summary>
public abstract class CoordinationConformance : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _opened = [];

    /// <summary>A fresh prefix per test, so tests sharing a store never see each other.</summary>
    protected string Root { get; } = $"/test/{Guid.NewGuid():N}/";

    protected ICoordination Store { get; private set; } = null!;

    protected abstract Task<ICoordination> Connect();

    public virtual async Task InitializeAsync() => Store = await Open();

    public virtual async Task DisposeAsync()
    {
        foreach (var d in Enumerable.Reverse(_opened))
            await d.DisposeAsync();
    }

    protected async Task<ICoordination> Open()
    {
        var store = await Connect();
        _opened.Add(store);
        return store;
    }

    protected T Track<T>(T disposable)
        where T : IAsyncDisposable
    {
        _opened.Add(disposable);
        return disposable;
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(byte[] b) => Encoding.UTF8.GetString(b);

    [Fact]
    public async Task Put_get_list_and_delete_with_increasing_revisions()
    {
        var r1 = await Store.PutAsync(Root + "a", B("1"));
        var r2 = await Store.PutAsync(Root + "b", B("2"));
        var r3 = await Store.PutAsync(Root + "a", B("3"));
        Assert.True(r1 < r2 && r2 < r3);
        var a = await Store.GetAsync(Root + "a");
        Assert.Equal(("3", r1, r3, 2L), (S(a!.Value), a.CreateRevision, a.ModRevision, a.Version));

        var list = await Store.ListAsync(Root);
        Assert.Equal([Root + "a", Root + "b"], list.Entries.Select(e => e.Key));
        Assert.True(list.Revision >= r3);

        Assert.Equal(1, await Store.DeleteAsync(Root + "a"));
        Assert.Equal(0, await Store.DeleteAsync(Root + "a"));
        Assert.Null(await Store.GetAsync(Root + "a"));
        Assert.Single((await Store.ListAsync(Root)).Entries);
    }

    [Fact]
    public async Task Compare_and_swap_creates_once_and_refuses_stale_writers_with_the_current_value()
    {
        var other = await Open();
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? Store : other).CompareAndSwapAsync(Root + "lock", 0, B($"c{i}"))));
        var winner = Assert.Single(attempts, a => a.Succeeded);
        Assert.All(attempts.Where(a => !a.Succeeded), a => Assert.Equal(S(winner.Current!.Value), S(a.Current!.Value)));

        var current = (await Store.GetAsync(Root + "lock"))!;
        var stale = await other.CompareAndSwapAsync(Root + "lock", current.ModRevision - 1, B("late"));
        Assert.False(stale.Succeeded);
        Assert.Equal(current.ModRevision, stale.Current!.ModRevision);
        var update = await other.CompareAndSwapAsync(Root + "lock", current.ModRevision, B("next"));
        Assert.True(update.Succeeded);

        Assert.False((await Store.CompareAndDeleteAsync(Root + "lock", current.ModRevision)).Succeeded);
        Assert.True((await Store.CompareAndDeleteAsync(Root + "lock", update.Revision)).Succeeded);
        Assert.Null(await Store.GetAsync(Root + "lock"));
    }

    [Fact]
    public async Task A_key_bound_to_a_lease_goes_when_the_lease_expires()
    {
        var lease = await Store.GrantLeaseAsync(TimeSpan.FromSeconds(2));
        await Store.PutAsync(Root + "ephemeral", B("x"), lease);
        Assert.Equal(lease, (await Store.GetAsync(Root + "ephemeral"))!.Lease);
        await Eventually.Until(async () => await Store.GetAsync(Root + "ephemeral") is null, "the key expires with its lease");
        Assert.Null(await Store.TimeToLiveAsync(lease));
        Assert.Equal(TimeSpan.Zero, await Store.KeepAliveAsync(lease));
    }

    [Fact]
    public async Task Keepalives_hold_a_lease_well_past_its_ttl()
    {
        var lease = await Store.GrantLeaseAsync(TimeSpan.FromSeconds(2));
        await Store.PutAsync(Root + "held", B("x"), lease);
        var until = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal(TimeSpan.FromSeconds(2), await Store.KeepAliveAsync(lease));
            await Task.Delay(250); // the renewal rhythm under test, not synchronisation
        }

        Assert.NotNull(await Store.GetAsync(Root + "held"));
        Assert.NotNull(await Store.TimeToLiveAsync(lease));
    }

    [Fact]
    public async Task Revoking_a_lease_deletes_its_keys_at_once()
    {
        var lease = await Store.GrantLeaseAsync(TimeSpan.FromSeconds(30));
        await Store.PutAsync(Root + "k1", B("1"), lease);
        await Store.PutAsync(Root + "k2", B("2"), lease);
        await Store.PutAsync(Root + "k3", B("3"));
        await Store.RevokeLeaseAsync(lease);
        Assert.Equal([Root + "k3"], (await Store.ListAsync(Root)).Entries.Select(e => e.Key));
    }

    [Fact]
    public async Task Watches_deliver_changes_in_order_and_resume_from_any_kept_revision()
    {
        var start = (await Store.ListAsync(Root)).Revision + 1;
        await Store.PutAsync(Root + "x", B("1"));
        await Store.PutAsync(Root + "y", B("2"));
        await Store.DeleteAsync(Root + "x");
        await Store.PutAsync("/elsewhere/" + Guid.NewGuid(), B("noise"));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var seen = new List<WatchEvent>();
        await foreach (var e in Store.WatchAsync(Root, start, cts.Token))
        {
            seen.Add(e);
            if (seen.Count == 3)
                break;
        }

        Assert.Equal([(WatchEventKind.Put, "x"), (WatchEventKind.Put, "y"), (WatchEventKind.Delete, "x")],
            seen.Select(e => (e.Kind, e.Entry.Key[Root.Length..])));

        // Live: a change made after the watch started arrives too.
        var live = Store.WatchAsync(Root, seen[^1].Entry.ModRevision + 1, cts.Token).GetAsyncEnumerator(cts.Token);
        var next = live.MoveNextAsync().AsTask();
        await (await Open()).PutAsync(Root + "z", B("3"));
        Assert.True(await next);
        Assert.Equal(Root + "z", live.Current.Entry.Key);
        await live.DisposeAsync();
    }

    [Fact]
    public async Task A_watch_from_compacted_history_says_so()
    {
        var first = await Store.PutAsync(Root + "old", B("1"));
        var later = await Store.PutAsync(Root + "old", B("2"));
        await Store.CompactAsync(later);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var ex = await Assert.ThrowsAsync<CompactedException>(async () =>
        {
            await foreach (var _ in Store.WatchAsync(Root, first, cts.Token))
            {
            }
        });
        Assert.True(ex.CompactedTo > first);
        Assert.Contains("list again", ex.Message);
    }

    private LeaseSettings Fast => new(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300));

    [Fact]
    public async Task Members_see_each_other_join_and_see_a_member_leave_when_its_lease_ends()
    {
        var storeB = await Open();
        var leaseA = Track(await NodeLease.AcquireAsync(Store, Fast, TimeProvider.System, NullLogger.Instance));
        var leaseB = Track(await NodeLease.AcquireAsync(storeB, Fast, TimeProvider.System, NullLogger.Instance));
        var a = Track(await ClusterMembership.JoinAsync(Store, Member("node-a", leaseA.Id), NullLogger.Instance));
        var b = Track(await ClusterMembership.JoinAsync(storeB, Member("node-b", leaseB.Id), NullLogger.Instance));
        var changesOfA = a.Subscribe();

        await Eventually.Until(() => Task.FromResult(a.Members.ContainsKey("node-b") && b.Members.ContainsKey("node-a")), "both see both");
        Assert.Equal("10.0.0.2:9110", a.Members["node-b"].Address);
        Assert.Equal(["hypervisor"], a.Members["node-b"].Roles);

        await leaseB.DisposeAsync(); // node-b stops renewing: it is gone after the TTL
        await Eventually.Until(() => Task.FromResult(!a.Members.ContainsKey("node-b")), "node-a sees node-b leave", 20);
        var changes = new List<MemberChange>();
        while (changesOfA.TryRead(out var change))
            changes.Add(change);
        Assert.Contains(changes, c => c.Kind == MemberChangeKind.Left && c.Member.Name == "node-b");
        Assert.Null(await Store.GetAsync(CoordinationKeys.Member("node-b")));
    }

    private static MemberInfo Member(string name, long lease) =>
        new(name, name == "node-a" ? "10.0.0.1:9110" : "10.0.0.2:9110", ["hypervisor"], new Dictionary<string, double> { ["vcpu"] = 32 }, Guid.NewGuid().ToString("N"), lease, DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_graceful_leave_removes_the_member_at_once()
    {
        var lease = Track(await NodeLease.AcquireAsync(Store, Fast, TimeProvider.System, NullLogger.Instance));
        var self = Track(await ClusterMembership.JoinAsync(Store, Member("node-a", lease.Id), NullLogger.Instance));
        var observer = Track(await ClusterMembership.ObserveAsync(await Open(), NullLogger.Instance));
        await Eventually.Until(() => Task.FromResult(observer.Members.ContainsKey("node-a")), "the observer sees node-a");
        await self.LeaveAsync();
        await lease.ReleaseAsync();
        await Eventually.Until(() => Task.FromResult(!observer.Members.ContainsKey("node-a")), "the observer sees node-a leave", 5);
    }

    [Fact]
    public async Task Among_contending_candidates_there_is_never_more_than_one_holder_and_another_takes_over()
    {
        var candidates = new List<(SingletonElection Election, NodeLease Lease)>();
        var name = "balancer-" + Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 5; i++)
        {
            var store = await Open();
            var lease = Track(await NodeLease.AcquireAsync(store, Fast, TimeProvider.System, NullLogger.Instance));
            var election = new SingletonElection(store, name, $"node-{i}", lease, NullLogger.Instance);
            candidates.Add((election, lease));
        }

        // One pass reads the candidates one after another, so a handover between two reads looks like two holders;
        // a second pass over the suspects confirms it (a real overlap lasts far longer than two reads).
        var overlaps = 0;
        using var watching = new CancellationTokenSource();
        var monitor = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                var suspects = candidates.Where(c => c.Election.IsLeader).ToList();
                if (suspects.Count > 1 && suspects.Count(c => c.Election.IsLeader) > 1)
                    Interlocked.Increment(ref overlaps);
                await Task.Yield();
            }
        });

        foreach (var c in candidates)
            c.Election.Start();
        await Eventually.Until(() => Task.FromResult(candidates.Count(c => c.Election.IsLeader) == 1), "one holder");
        var first = candidates.Single(c => c.Election.IsLeader);
        Assert.Equal(first.Election.Holder, await SingletonElection.HolderOfAsync(Store, name));
        await Eventually.Until(() => Task.FromResult(candidates.All(c => c.Election.Holder == first.Election.Holder)), "everyone sees the holder");

        await first.Election.ResignAsync(); // graceful: the next takes over at once
        await Eventually.Until(() => Task.FromResult(candidates.Count(c => c.Election.IsLeader) == 1), "a second holder after resign", 5);
        var second = candidates.Single(c => c.Election.IsLeader);
        Assert.NotSame(first.Election, second.Election);

        await second.Lease.DisposeAsync(); // the holder stops renewing: it loses locally, the key expires, another wins
        await Eventually.Until(() => Task.FromResult(!second.Election.IsLeader), "the silent holder steps down");
        await Eventually.Until(() => Task.FromResult(candidates.Count(c => c.Election.IsLeader) == 1), "a third holder after the lease ended", 20);

        watching.Cancel();
        await monitor;
        Assert.Equal(0, overlaps);
        foreach (var c in candidates)
            await c.Election.DisposeAsync();
    }

    [Fact]
    public async Task A_node_lease_reports_loss_when_the_store_says_it_expired()
    {
        var lease = Track(await NodeLease.AcquireAsync(Store, Fast, TimeProvider.System, NullLogger.Instance));
        Assert.False(lease.IsLost);
        await Store.RevokeLeaseAsync(lease.Id); // from the store's side the lease is gone
        var reason = await lease.WhenLost.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("expired", reason);
    }
}
