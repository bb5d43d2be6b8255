using System.Threading.Channels;
using Virt.Actors.Persistence;

namespace Virt.Tests.Persistence;

/// <summary>
/// What every <see cref="IEventJournal"/> and <see cref="ISnapshotStore"/> backend must do. A backend's test class
/// derives from this and says how to open its storage; every test here then runs against it.
/// </summary>
public abstract class JournalConformance : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _opened = [];

    protected IEventJournal Journal { get; private set; } = null!;

    /// <summary>A journal on the storage this test instance owns (the same storage every call).</summary>
    protected abstract Task<IEventJournal> OpenJournal();

    protected abstract Task<ISnapshotStore> OpenSnapshotStore();

    public virtual async Task InitializeAsync() => Journal = await Track(OpenJournal());

    public virtual async Task DisposeAsync()
    {
        foreach (var d in Enumerable.Reverse(_opened))
            await d.DisposeAsync();
    }

    protected async Task<T> Track<T>(Task<T> opening)
        where T : IAsyncDisposable
    {
        var opened = await opening;
        _opened.Add(opened);
        return opened;
    }

    private static EventToWrite E(string value, int n, params string[] tags) => new(new TestEvent(value, n), tags);

    private static async Task<List<PersistedEvent>> All(IAsyncEnumerable<PersistedEvent> events)
    {
        var list = new List<PersistedEvent>();
        await foreach (var e in events)
            list.Add(e);
        return list;
    }

    [Fact]
    public async Task Appended_events_replay_in_order_with_their_metadata()
    {
        await Journal.AppendAsync("vm-1", 0, [E("a", 1, "vm"), E("b", 2)]);
        await Journal.AppendAsync("vm-1", 2, [E("c", 3, "vm", "audit")]);
        await Journal.AppendAsync("vm-2", 0, [E("x", 9)]);

        var events = await All(Journal.ReplayAsync("vm-1", 1));
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.SequenceNr));
        Assert.Equal(["a", "b", "c"], events.Select(e => ((TestEvent)e.Payload).Value));
        Assert.All(events, e => Assert.Equal("vm-1", e.PersistenceId));
        Assert.All(events, e => Assert.Equal("test.event.v1", e.Manifest));
        Assert.Equal(["vm", "audit"], events[2].Tags);
        Assert.Empty(events[1].Tags);
        Assert.True(events[0].Ordering < events[1].Ordering && events[1].Ordering < events[2].Ordering);
        Assert.False(string.IsNullOrEmpty(events[0].WriterId));
        Assert.True(DateTimeOffset.UtcNow - events[0].Created < TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task Replay_honours_from_and_to()
    {
        await Journal.AppendAsync("p", 0, Enumerable.Range(1, 10).Select(i => E("e", i)).ToList());
        Assert.Equal([4, 5, 6], (await All(Journal.ReplayAsync("p", 4, 6))).Select(e => ((TestEvent)e.Payload).N));
        Assert.Empty(await All(Journal.ReplayAsync("p", 11)));
        Assert.Empty(await All(Journal.ReplayAsync("unknown", 1)));
    }

    [Fact]
    public async Task Replay_of_a_long_stream_crosses_pages()
    {
        await Journal.AppendAsync("long", 0, Enumerable.Range(1, 2_500).Select(i => E("e", i)).ToList());
        var events = await All(Journal.ReplayAsync("long", 1));
        Assert.Equal(Enumerable.Range(1, 2_500).Select(i => (long)i), events.Select(e => e.SequenceNr));
    }

    [Fact]
    public async Task Highest_sequence_number_is_zero_for_a_new_stream_and_follows_appends()
    {
        Assert.Equal(0, await Journal.HighestSequenceNrAsync("p"));
        await Journal.AppendAsync("p", 0, [E("a", 1), E("b", 2), E("c", 3)]);
        Assert.Equal(3, await Journal.HighestSequenceNrAsync("p"));
    }

    [Fact]
    public async Task Append_at_a_stale_expected_number_conflicts_and_writes_nothing()
    {
        await Journal.AppendAsync("p", 0, [E("a", 1)]);
        var ex = await Assert.ThrowsAsync<JournalConflictException>(() => Journal.AppendAsync("p", 0, [E("stale", 1), E("stale", 2)]));
        Assert.Equal(0, ex.ExpectedSequenceNr);
        Assert.Equal(1, ex.ActualSequenceNr);
        Assert.Contains("'p'", ex.Message);
        await Assert.ThrowsAsync<JournalConflictException>(() => Journal.AppendAsync("p", 5, [E("gap", 6)]));

        var events = await All(Journal.ReplayAsync("p", 1));
        Assert.Equal(["a"], events.Select(e => ((TestEvent)e.Payload).Value));
    }

    [Fact]
    public async Task Many_writers_racing_on_one_stream_never_interleave_appends_or_leave_gaps()
    {
        var second = await Track(OpenJournal());
        var writers = new[] { Journal, second };
        const int rounds = 40;
        for (var round = 0; round < rounds; round++)
        {
            var attempts = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
            {
                var journal = writers[w % 2];
                var events = Enumerable.Range(0, 1 + (w % 3)).Select(i => E($"w{w}", round)).ToList();
                try
                {
                    await journal.AppendAsync("contested", await Expected(), events);
                    return (Writer: w, Won: true, Count: events.Count);
                }
                catch (JournalConflictException)
                {
                    return (Writer: w, Won: false, Count: 0);
                }
            })).ToArray();

            async Task<long> Expected() => await Journal.HighestSequenceNrAsync("contested");

            var outcomes = await Task.WhenAll(attempts);
            Assert.True(outcomes.Count(o => o.Won) >= 1, $"round {round}: nobody won");
        }

        var stored = await All(Journal.ReplayAsync("contested", 1));
        Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored.Select(e => e.SequenceNr));

        // Each append is all-or-nothing and never interleaved: events from one append stay together.
        var runs = new List<(string Writer, int Round, int Length)>();
        foreach (var e in stored.Select(e => (TestEvent)e.Payload))
        {
            if (runs.Count > 0 && runs[^1].Writer == e.Value && runs[^1].Round == e.N)
                runs[^1] = runs[^1] with { Length = runs[^1].Length + 1 };
            else
                runs.Add((e.Value, e.N, 1));
        }

        foreach (var append in runs.GroupBy(r => (r.Writer, r.Round)))
        {
            var size = 1 + (int.Parse(append.Key.Writer[1..]) % 3);
            Assert.Single(append); // one contiguous run per append
            Assert.Equal(size, append.Single().Length); // all of it, nothing else
        }
    }

    [Fact]
    public async Task Two_writers_at_the_same_expected_sequence_number_exactly_one_wins()
    {
        var second = await Track(OpenJournal());
        for (var round = 0; round < 30; round++)
        {
            var expected = round * 2L;
            var a = Journal.AppendAsync("race", expected, [E("a", round), E("a", round)]);
            var b = second.AppendAsync("race", expected, [E("b", round), E("b", round)]);
            var results = await Task.WhenAll(Outcome(a), Outcome(b));
            Assert.Equal(1, results.Count(won => won));
        }

        var stored = await All(Journal.ReplayAsync("race", 1));
        Assert.Equal(60, stored.Count);
        Assert.Equal(Enumerable.Range(1, 60).Select(i => (long)i), stored.Select(e => e.SequenceNr));
        for (var i = 0; i < 60; i += 2)
            Assert.Equal(((TestEvent)stored[i].Payload).Value, ((TestEvent)stored[i + 1].Payload).Value);

        static async Task<bool> Outcome(Task append)
        {
            try
            {
                await append;
                return true;
            }
            catch (JournalConflictException)
            {
                return false;
            }
        }
    }

    [Fact]
    public async Task Many_streams_written_concurrently_are_each_complete_and_ordered()
    {
        var writers = Enumerable.Range(0, 50).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
                await Journal.AppendAsync($"s-{p}", i, [E("e", i + 1)]);
        }));
        await Task.WhenAll(writers);
        for (var p = 0; p < 50; p++)
        {
            var events = await All(Journal.ReplayAsync($"s-{p}", 1));
            Assert.Equal(Enumerable.Range(1, 20), events.Select(e => ((TestEvent)e.Payload).N));
        }
    }

    [Fact]
    public async Task Delete_to_hides_events_but_keeps_the_highest_sequence_number()
    {
        await Journal.AppendAsync("p", 0, Enumerable.Range(1, 5).Select(i => E("e", i, "t")).ToList());
        await Journal.DeleteToAsync("p", 3);
        Assert.Equal([4L, 5L], (await All(Journal.ReplayAsync("p", 1))).Select(e => e.SequenceNr));
        Assert.Equal(5, await Journal.HighestSequenceNrAsync("p"));

        await Journal.DeleteToAsync("p", long.MaxValue);
        Assert.Empty(await All(Journal.ReplayAsync("p", 1)));
        Assert.Equal(5, await Journal.HighestSequenceNrAsync("p"));
        Assert.Empty(await All(Journal.CurrentEventsByTagAsync("t", 0)));

        await Assert.ThrowsAsync<JournalConflictException>(() => Journal.AppendAsync("p", 0, [E("reuse", 1)]));
        await Journal.AppendAsync("p", 5, [E("next", 6)]);
        Assert.Equal([6L], (await All(Journal.ReplayAsync("p", 1))).Select(e => e.SequenceNr));
    }

    [Fact]
    public async Task Current_events_by_tag_are_ordered_and_start_after_the_offset()
    {
        await Journal.AppendAsync("a", 0, [E("a1", 1, "vm"), E("a2", 2)]);
        await Journal.AppendAsync("b", 0, [E("b1", 1, "vm", "x")]);
        await Journal.AppendAsync("a", 2, [E("a3", 3, "vm")]);

        var tagged = await All(Journal.CurrentEventsByTagAsync("vm", 0));
        Assert.Equal(["a1", "b1", "a3"], tagged.Select(e => ((TestEvent)e.Payload).Value));
        Assert.True(tagged.Zip(tagged.Skip(1)).All(p => p.First.Ordering < p.Second.Ordering));

        var after = await All(Journal.CurrentEventsByTagAsync("vm", tagged[0].Ordering));
        Assert.Equal(["b1", "a3"], after.Select(e => ((TestEvent)e.Payload).Value));
        Assert.Equal(["b1"], (await All(Journal.CurrentEventsByTagAsync("x", 0))).Select(e => ((TestEvent)e.Payload).Value));
        Assert.Empty(await All(Journal.CurrentEventsByTagAsync("nothing", 0)));
    }

    [Fact]
    public async Task Live_events_by_tag_deliver_existing_then_new_events_in_order()
    {
        await Journal.AppendAsync("a", 0, [E("old", 1, "live")]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = Channel.CreateUnbounded<string>();
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in Journal.EventsByTagAsync("live", 0, cts.Token))
                    await seen.Writer.WriteAsync(((TestEvent)e.Payload).Value);
            }
            catch (OperationCanceledException)
            {
            }
        });

        Assert.Equal("old", await seen.Reader.ReadAsync(cts.Token));
        await Journal.AppendAsync("b", 0, [E("new-1", 1, "live"), E("untagged", 2)]);
        await Journal.AppendAsync("a", 1, [E("new-2", 2, "live")]);
        Assert.Equal("new-1", await seen.Reader.ReadAsync(cts.Token));
        Assert.Equal("new-2", await seen.Reader.ReadAsync(cts.Token));
        cts.Cancel();
        await reader;
    }

    [Fact]
    public async Task Live_events_by_tag_see_events_written_by_another_journal_instance()
    {
        var other = await Track(OpenJournal());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var enumerator = Journal.EventsByTagAsync("shared", 0, cts.Token).GetAsyncEnumerator(cts.Token);
        var next = enumerator.MoveNextAsync().AsTask();
        await other.AppendAsync("z", 0, [E("from-other", 1, "shared")]);
        Assert.True(await next);
        Assert.Equal("from-other", ((TestEvent)enumerator.Current.Payload).Value);
        cts.Cancel();
        await enumerator.DisposeAsync();
    }

    [Fact]
    public async Task Persistence_ids_lists_every_stream()
    {
        await Journal.AppendAsync("vm-a", 0, [E("a", 1)]);
        await Journal.AppendAsync("vm-b", 0, [E("b", 1)]);
        var ids = new List<string>();
        await foreach (var id in Journal.CurrentPersistenceIdsAsync())
            ids.Add(id);
        Assert.Equal(["vm-a", "vm-b"], ids.Order());
    }

    [Fact]
    public async Task Reopening_the_storage_keeps_every_stored_event()
    {
        await Journal.AppendAsync("p", 0, [E("a", 1, "t"), E("b", 2)]);
        await Journal.DisposeAsync();
        var reopened = await Track(OpenJournal());
        Assert.Equal(["a", "b"], (await All(reopened.ReplayAsync("p", 1))).Select(e => ((TestEvent)e.Payload).Value));
        Assert.Equal(2, await reopened.HighestSequenceNrAsync("p"));
        await reopened.AppendAsync("p", 2, [E("c", 3)]);
        Assert.Single(await All(reopened.CurrentEventsByTagAsync("t", 0)));
    }

    [Fact]
    public async Task An_unregistered_event_type_is_refused_with_a_clear_error_and_nothing_is_stored()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => Journal.AppendAsync("p", 0, [new EventToWrite(new Uri("http://x"))]));
        Assert.Contains("no manifest", ex.Message);
        Assert.Equal(0, await Journal.HighestSequenceNrAsync("p"));
    }

    [Fact]
    public async Task Snapshots_load_the_newest_at_or_below_a_bound_and_delete()
    {
        var store = await Track(OpenSnapshotStore());
        Assert.Null(await store.LoadAsync("p"));
        await store.SaveAsync("p", 5, new TestSnapshot(5, ["a"]));
        await store.SaveAsync("p", 9, new TestSnapshot(9, ["a", "b"]));
        await store.SaveAsync("q", 1, new TestSnapshot(1, []));

        var latest = await store.LoadAsync("p");
        Assert.Equal(9, latest!.Metadata.SequenceNr);
        Assert.Equal(new List<string> { "a", "b" }, ((TestSnapshot)latest.Snapshot).Values);
        Assert.Equal(5, (await store.LoadAsync("p", 8))!.Metadata.SequenceNr);
        Assert.Null(await store.LoadAsync("p", 4));

        await store.DeleteAsync("p", 9);
        Assert.Null(await store.LoadAsync("p"));
        Assert.NotNull(await store.LoadAsync("q"));
    }
}
