using System.Diagnostics;
using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;
using Virt.Actors.Runtime;

namespace Virt.Bench;

/// <summary>Issue 2's figures: actor throughput, journal append rate, recovery of many persistent actors.</summary>
internal static class FoundationBench
{
    public static async Task Run()
    {
        await OneActor(5_000_000);
        await ManyActors(1_000, 10_000_000);
        var dir = Directory.CreateTempSubdirectory("virt-bench-");
        try
        {
            await JournalAppends(dir.FullName, "full", 1_000, 200_000);
            await JournalAppends(dir.FullName, "normal", 1_000, 200_000);
            await Replay(dir.FullName, 10_000, 20);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private sealed class Counter(int expected, TaskCompletionSource done) : Actor
    {
        private int _count;

        protected override void OnReceive(object message)
        {
            if (++_count == expected)
                done.TrySetResult();
        }
    }

    private sealed class SharedCounter(long[] total, long expected, TaskCompletionSource done) : Actor
    {
        protected override void OnReceive(object message)
        {
            if (Interlocked.Increment(ref total[0]) == expected)
                done.TrySetResult();
        }
    }

    private static async Task OneActor(int messages)
    {
        await using var system = ActorSystem.Create("bench");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = system.ActorOf(Props.Create(() => new Counter(messages, done)));
        var message = new object();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < messages; i++)
            actor.Tell(message);
        await done.Task;
        Report.Line("messages/s through one actor (one sender)", messages / sw.Elapsed.TotalSeconds, "msg/s");
    }

    private static async Task ManyActors(int actors, int messages)
    {
        await using var system = ActorSystem.Create("bench");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var total = new long[1];
        var refs = Enumerable.Range(0, actors).Select(_ => system.ActorOf(Props.Create(() => new SharedCounter(total, messages, done)))).ToArray();
        var message = new object();
        var senders = Environment.ProcessorCount;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, senders).Select(s => Task.Run(() =>
        {
            for (var i = s; i < messages; i += senders)
                refs[i % actors].Tell(message);
        })));
        await done.Task;
        Report.Line($"messages/s across {actors:N0} actors ({senders} senders)", messages / sw.Elapsed.TotalSeconds, "msg/s", ">= 1,000,000");
    }

    private sealed record BenchEvent(string Vm, int N);

    private static EventSerializer Serializer() => new EventSerializer().Register<BenchEvent>("bench.event.v1");

    private static async Task JournalAppends(string dir, string synchronous, int streams, int events)
    {
        var path = Path.Combine(dir, $"append-{synchronous}.db");
        using var db = new SqliteDatabase(new SqlitePersistenceOptions { Path = path, Synchronous = synchronous });
        await using var journal = new SqliteJournal(db, Serializer());
        var perStream = events / streams;
        var latencies = new List<double>(events);
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, streams).Select(s => Task.Run(async () =>
        {
            var mine = new List<double>(perStream);
            for (var i = 0; i < perStream; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await journal.AppendAsync($"vm-{s}", i, [new EventToWrite(new BenchEvent($"vm-{s}", i), ["vm"])]);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            lock (latencies)
                latencies.AddRange(mine);
        })));
        var rate = streams * perStream / sw.Elapsed.TotalSeconds;
        latencies.Sort();
        Report.Line($"journal appends/s, batched, synchronous={synchronous}, {streams} writers", rate, "events/s", ">= 50,000");
        Report.Line($"  append latency p50 / p99 (ms)", $"{Report.Percentile(latencies, 50):F2} / {Report.Percentile(latencies, 99):F2}");
    }

    private sealed class Recovering(string id, IEventJournal journal, Action recovered) : PersistentActor(journal)
    {
        private int _sum;

        public override string PersistenceId => id;

        protected override void ReceiveRecover(object message)
        {
            if (message is BenchEvent e)
                _sum += e.N;
            else if (message is RecoveryCompleted)
                recovered();
        }

        protected override void ReceiveCommand(object message)
        {
        }
    }

    private static async Task Replay(string dir, int actors, int eventsEach)
    {
        var path = Path.Combine(dir, "replay.db");
        using (var db = new SqliteDatabase(new SqlitePersistenceOptions { Path = path, Synchronous = "normal" }))
        await using (var writer = new SqliteJournal(db, Serializer()))
        {
            await Task.WhenAll(Enumerable.Range(0, actors).Select(a =>
                writer.AppendAsync($"vm-{a}", 0, Enumerable.Range(1, eventsEach).Select(n => new EventToWrite(new BenchEvent($"vm-{a}", n))).ToList())));
        }

        using var readDb = new SqliteDatabase(new SqlitePersistenceOptions { Path = path });
        await using var journal = new SqliteJournal(readDb, Serializer());
        await using var system = ActorSystem.Create("bench");
        var remaining = actors;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sw = Stopwatch.StartNew();
        for (var a = 0; a < actors; a++)
        {
            var id = $"vm-{a}";
            system.ActorOf(Props.Create(() => new Recovering(id, journal, () =>
            {
                if (Interlocked.Decrement(ref remaining) == 0)
                    done.TrySetResult();
            })), id);
        }

        await done.Task;
        Report.Line($"replay of {actors:N0} persistent actors x {eventsEach} events (s)", $"{sw.Elapsed.TotalSeconds:F2} s", "< 2 s");
    }
}
