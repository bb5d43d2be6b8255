using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.Etcd;
using Virt.Tests.Support;
using Xunit.Abstractions;

namespace Virt.Tests.Cluster;

/// <summary>The etcd client and the lease when etcd members die, hang or lose their quorum. Each test has its own cluster.</summary>
public sealed class EtcdFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);
    private readonly List<IAsyncDisposable> _opened = [];
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var d in Enumerable.Reverse(_opened))
            await d.DisposeAsync();
        await _etcd.DisposeAsync();
    }

    private EtcdCoordination Client(params int[] members)
    {
        var client = new EtcdCoordination(new EtcdOptions { Endpoints = [.. members.Select(_etcd.Endpoint)], CallTimeout = CallTimeout }, NullLogger.Instance);
        _opened.Add(client);
        return client;
    }

    [Fact]
    public async Task A_watch_continues_across_the_restart_of_the_member_it_was_on_without_losing_or_repeating_events()
    {
        var watcher = Client(0, 1, 2);
        var writer = Client(1, 2);
        var from = (await writer.ListAsync("/w/")).Revision + 1;
        var seen = new List<string>();
        using var stop = new CancellationTokenSource();
        var watching = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in watcher.WatchAsync("/w/", from, stop.Token))
                {
                    lock (seen)
                        seen.Add(Encoding.UTF8.GetString(e.Entry.Value));
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // the end of the test
            }
        });
        Func<int, Task<bool>> hasSeen = n => Task.FromResult(Count() >= n);
        int Count()
        {
            lock (seen)
                return seen.Count;
        }

        for (var i = 1; i <= 5; i++)
            await Create(writer, i);
        await Eventually.Until(() => hasSeen(5), "the first five events arrive");
        Assert.Equal(new Uri(_etcd.Endpoint(0)), watcher.Client.CurrentEndpoint);

        _etcd.Kill(0);
        for (var i = 6; i <= 10; i++)
            await Create(writer, i);
        await Eventually.Until(() => hasSeen(10), "events after the kill arrive through another member");
        Assert.NotEqual(new Uri(_etcd.Endpoint(0)), watcher.Client.CurrentEndpoint);
        await Eventually.Until(async () => await Retried(() => watcher.PutAsync("/other", [1])), "plain calls fail over too");

        await _etcd.RestartAsync(0);
        for (var i = 11; i <= 15; i++)
            await Create(writer, i);
        await Eventually.Until(() => hasSeen(15), "events after the restart arrive");

        stop.Cancel();
        await watching;
        lock (seen)
            Assert.Equal(Enumerable.Range(1, 15).Select(i => $"{i}"), seen);
    }

    /// <summary>
    /// Creates /w/k{i} holding "i", retrying while the cluster elects a new leader. Create-only, so a retry of a write
    /// that was applied after all finds its own value instead of writing a second event.
    /// </summary>
    private static async Task Create(EtcdCoordination writer, int i)
    {
        var value = Encoding.UTF8.GetBytes($"{i}");
        await Eventually.Until(async () => await Retried(async () =>
        {
            var created = await writer.CompareAndSwapAsync($"/w/k{i}", 0, value);
            Assert.True(created.Succeeded || created.Current!.Value.SequenceEqual(value), $"/w/k{i} holds something else");
        }), $"/w/k{i} is written");
    }

    /// <summary>True when <paramref name="call"/> went through; false when etcd could not serve it (yet).</summary>
    private static async Task<bool> Retried(Func<Task> call)
    {
        try
        {
            await call();
            return true;
        }
        catch (CoordinationUnavailableException)
        {
            return false;
        }
    }

    [Fact]
    public async Task When_quorum_is_lost_calls_fail_fast_with_a_clear_error_and_work_again_when_it_is_back()
    {
        var all = Client(0, 1, 2);
        var only0 = Client(0);
        await all.PutAsync("/q/before", [1]);
        _etcd.Pause(1);
        _etcd.Pause(2);

        // Member 0 notices within an election timeout that it has no leader; until then its calls time out.
        // Every write gets its own key: a timed-out write may still be applied once the others are back.
        var refusedKeys = new List<string>();
        EtcdNotLeaderException? refused = null;
        var attempt = 0;
        await Eventually.Until(async () =>
        {
            var key = $"/q/during-{++attempt}";
            var watch = Stopwatch.StartNew();
            try
            {
                await only0.PutAsync(key, [2]).WaitAsync(CallTimeout + TimeSpan.FromSeconds(5)); // never hangs past its deadline
                throw new Xunit.Sdk.XunitException("a write succeeded without a quorum");
            }
            catch (EtcdNotLeaderException ex)
            {
                output.WriteLine($"refused after {watch.ElapsedMilliseconds} ms: {ex.Message}");
                refusedKeys.Add(key);
                refused = ex;
                return true;
            }
            catch (EtcdUnavailableException ex)
            {
                output.WriteLine($"failed after {watch.ElapsedMilliseconds} ms: {ex.Message}");
                return false;
            }
        }, "member 0 refuses for want of a leader");
        Assert.Contains("no leader", refused!.Message);
        Assert.Contains("nothing was done", refused.Message);
        Assert.False(refused.Sent);

        // A client of all three members gets an error that says what each member it tried did.
        var read = await Assert.ThrowsAnyAsync<CoordinationUnavailableException>(() => all.GetAsync("/q/before").WaitAsync(CallTimeout + TimeSpan.FromSeconds(5)));
        Assert.Contains("etcd 127.0.0.1:", read.Message);
        output.WriteLine($"read through all members: {read.Message}");

        _etcd.Resume(1);
        _etcd.Resume(2);
        await Eventually.Until(async () =>
        {
            try
            {
                await all.PutAsync("/q/after", [3]);
                return true;
            }
            catch (CoordinationUnavailableException)
            {
                return false;
            }
        }, "writes work again");
        foreach (var key in refusedKeys)
            Assert.Null(await all.GetAsync(key)); // a refused write was not applied
        Assert.NotNull(await all.GetAsync("/q/before"));
    }

    [Fact]
    public async Task Lease_lost_fires_on_the_cut_off_node_while_the_majority_still_has_its_key()
    {
        var node = Client(0);
        var majority = Client(1, 2);
        var settings = new LeaseSettings(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        var lease = await NodeLease.AcquireAsync(node, settings, TimeProvider.System, NullLogger.Instance);
        _opened.Add(lease);
        await node.PutAsync(CoordinationKeys.Member("cut-off"), [1], lease.Id);
        var granted = lease.Deadline;
        await Eventually.Until(() => Task.FromResult(lease.Deadline > granted), "a keepalive is acknowledged");

        _etcd.Pause(0); // the node's only member hangs: the node is cut off from the majority
        var reason = await lease.WhenLost.WaitAsync(TimeSpan.FromSeconds(30));
        var lostAt = Stopwatch.GetTimestamp();

        // The majority's first answer after the loss still has the key (answers during its election are refusals).
        KvEntry? atLoss = null;
        await Eventually.Until(async () =>
        {
            try
            {
                atLoss = await majority.GetAsync(CoordinationKeys.Member("cut-off"));
                return true;
            }
            catch (CoordinationUnavailableException)
            {
                return false;
            }
        }, "the majority answers");
        Assert.NotNull(atLoss);
        Assert.Contains("no keepalive acknowledged", reason);

        await Eventually.Until(async () => await majority.GetAsync(CoordinationKeys.Member("cut-off")) is null, "the majority expires the key", 30);
        output.WriteLine($"lease lost locally {Stopwatch.GetElapsedTime(lostAt).TotalMilliseconds:0} ms before the key was seen gone on the majority side");
    }

    [Fact]
    public async Task A_read_at_a_compacted_revision_is_a_typed_error_and_compacting_twice_is_harmless()
    {
        var client = Client(0, 1, 2);
        var first = await client.PutAsync("/c/k", [1]);
        var second = await client.PutAsync("/c/k", [2]);
        await client.CompactAsync(second);
        await client.CompactAsync(second); // etcd says "already compacted"; that is what was asked

        var range = new Virt.Actors.Cluster.Etcd.Rpc.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("/c/k"), Revision = first };
        var ex = await Assert.ThrowsAsync<EtcdCompactedException>(() => client.Client.RangeAsync(range));
        Assert.Contains("required revision has been compacted", ex.Message);
        Assert.Equal([2], (await client.GetAsync("/c/k"))!.Value); // the current value is still there
    }
}
