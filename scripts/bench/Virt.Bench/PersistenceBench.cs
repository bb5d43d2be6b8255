using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Virt.Actors.Vm;
using Virt.Hocon;
using Virt.Node.Configuration;
using Virt.Node.Hosting;
using Virt.Node.Persistence;
using Virt.Tests.Support;

namespace Virt.Bench;

/// <summary>
/// Issue 8's persistence figures: events persisted per second by one entity and by 1,000 at once, on SQLite (the
/// default file, WAL, synchronous full and normal) and on PostgreSQL 15, with exactly the daemon's journal setup
/// (Akka.Persistence.Sql, Virt's serializer and tagger, virt.conf's akka section). Each entity persists one event at a
/// time, the next after the previous is stored, as a VM entity does.
/// </summary>
internal static class PersistenceBench
{
    public static async Task Run()
    {
        using var dir = new TempDirectory("virt-bench-persist");
        foreach (var synchronous in new[] { "full", "normal" })
        {
            var data = Path.Combine(dir.Path, synchronous);
            await Backend($"SQLite (synchronous {synchronous})", data, [$"virt.persistence.sqlite.synchronous={synchronous}"], target: ">= 5,000 over 1,000");
        }

        var pg = await (await PostgresServer.Shared).CreateDatabase("bench");
        await Backend("PostgreSQL 15", Path.Combine(dir.Path, "pg"), [$"virt.persistence.postgresql.connection-string={pg}"], target: ">= 20,000 over 1,000");
    }

    private static async Task Backend(string name, string dataDir, string[] overrides, string target)
    {
        // VIRT_BENCH_SET="key=value;key=value" tries other settings without editing virt.conf.
        var extra = (Environment.GetEnvironmentVariable("VIRT_BENCH_SET") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries);
        var resolved = NodeConfiguration.Load(null, [$"virt.data-dir={dataDir}", .. overrides, .. extra], _ => null);
        var persistence = new ConfigurationBuilder().AddHocon(resolved).Build().GetSection("virt:persistence").Get<PersistenceOptions>()!;
        var store = JournalStore.Prepare(persistence, dataDir);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka("bench", akka => akka.WithVirtPersistence(store).AddHocon(NodeDaemon.AkkaConfig(resolved), HoconAddMode.Prepend));
        using var host = builder.Build();
        await host.StartAsync();
        var system = host.Services.GetRequiredService<ActorSystem>();

        await Writers(system, "warm-up", 100, 5); // JIT, connection pools, tables
        var one = await Writers(system, "one", 1, 3_000);
        Report.Line($"{name}: one entity, events one after another", one, "events/s");
        var many = await Writers(system, "many", 1_000, 20);
        Report.Line($"{name}: 1,000 entities at once", many, "events/s", target);
        await host.StopAsync();
    }

    /// <summary>Starts <paramref name="entities"/> writers that each persist <paramref name="events"/> events; events per second from the first to the last stored.</summary>
    private static async Task<double> Writers(ActorSystem system, string prefix, int entities, int events)
    {
        var done = new CountdownEvent(entities);
        var ready = Enumerable.Range(0, entities).Select(i => system.ActorOf(Props.Create(() => new Writer($"bench-{prefix}-{i}", events, done)))).ToList();
        foreach (var writer in ready)
            await writer.Ask<Writer.Recovered>(Writer.Ping.Instance, TimeSpan.FromMinutes(1));
        var sw = Stopwatch.StartNew();
        foreach (var writer in ready)
            writer.Tell(Writer.Go.Instance);
        await Task.Run(() => done.Wait(TimeSpan.FromMinutes(5)));
        var rate = entities * events / sw.Elapsed.TotalSeconds;
        foreach (var writer in ready)
            writer.Tell(PoisonPill.Instance);
        return rate;
    }

    /// <summary>Persists VM events (tagged, through Virt's serializer) one after another.</summary>
    private sealed class Writer : Akka.Persistence.ReceivePersistentActor
    {
        private readonly int _events;
        private readonly CountdownEvent _done;
        private int _written;

        public Writer(string id, int events, CountdownEvent done)
        {
            PersistenceId = id;
            _events = events;
            _done = done;
            Recover<VmEvent>(_ => { });
            Command<Ping>(_ => Sender.Tell(new Recovered()));
            Command<Go>(_ => Next());
        }

        public override string PersistenceId { get; }

        private void Next() => Persist(new VmEvent.DesiredChanged(PowerState.Running, "benchmark write", DateTimeOffset.UtcNow), _ =>
        {
            if (++_written == _events)
                _done.Signal();
            else
                Next();
        });

        public sealed class Ping
        {
            public static readonly Ping Instance = new();
        }

        public sealed class Go
        {
            public static readonly Go Instance = new();
        }

        public sealed record Recovered;
    }
}
