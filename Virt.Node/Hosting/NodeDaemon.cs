using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Hosting;
using Akka.Persistence.Sql.Query;
using Akka.Remote.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Virt.Actors.Balancer;
using Virt.Actors.Cluster;
using Virt.Actors.Fencing;
using Virt.Actors.Index;
using Virt.Actors.Persistence;
using Virt.Actors.Vm;
using Virt.Hocon;
using Virt.Node.Agent;
using Virt.Node.Api;
using Virt.Node.Fence;
using Virt.Node.Persistence;

namespace Virt.Node.Hosting;

/// <summary>
/// The composition root of virt-node: options, the data directory's lock, the journal, one ActorSystem <c>virt</c>
/// built with Akka.Hosting (remoting and clustering even on one node, persistence, the <c>vm</c> shard region, the
/// balancer singleton, the VM index and the node agent), and the HTTP API. Start-up failures become one plain line.
/// </summary>
internal static class NodeDaemon
{
    public const string SystemName = "virt";

    public static async Task<int> RunAsync(HoconObject resolved, CancellationToken cancellationToken)
    {
        WebApplication app;
        try
        {
            app = Build(resolved);
        }
        catch (StartupException ex)
        {
            await Console.Error.WriteLineAsync($"virt-node: {ex.Message}");
            return 2;
        }

        await using (app)
        {
            try
            {
                var system = app.Services.GetRequiredService<ActorSystem>(); // self-fence (issue 10): RunAsync disposes the services
                await app.RunAsync(cancellationToken);
                return SelfFenceTask.ExitCode(system); // self-fence (issue 10): 3 when the cluster let this node go
            }
            catch (StartupException ex)
            {
                await Console.Error.WriteLineAsync($"virt-node: {ex.Message}");
                return 2;
            }
            catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await Console.Error.WriteLineAsync($"virt-node: cannot listen on {app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApiOptions>>().Value.Listen}: the address is in use; is another virt-node running? Set virt.api.listen to another port");
                return 2;
            }
        }
    }

    /// <summary>Builds the daemon from an already validated configuration (see <see cref="Configuration.ConfigurationValidator"/>).</summary>
    public static WebApplication Build(HoconObject resolved, Action<IServiceCollection>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddHocon(resolved).Build();
        var node = configuration.GetSection("virt").Get<NodeOptions>() ?? new NodeOptions();
        var api = configuration.GetSection("virt:api").Get<ApiOptions>() ?? new ApiOptions();
        var persistence = configuration.GetSection("virt:persistence").Get<PersistenceOptions>() ?? new PersistenceOptions();
        var libvirt = configuration.GetSection("virt:libvirt").Get<LibvirtOptions>() ?? new LibvirtOptions();
        libvirt.ResolveChannelDir(node.DataDir);
        var vmDefaults = configuration.GetSection("virt:vm").Get<VmDefaults>() ?? new VmDefaults();
        var balancer = configuration.GetSection("virt:balancer").Get<BalancerOptions>() ?? new BalancerOptions();
        var fencing = configuration.GetSection("virt:fencing").Get<FencingOptions>() ?? new FencingOptions();
        var fenceLevels = new FenceLevels(fencing, TimeProvider.System);

        // Nothing is written before the configuration is known to be good and the data directory is ours.
        var held = DataDirectoryLock.Acquire(node.DataDir);
        JournalStore store;
        try
        {
            store = JournalStore.Prepare(persistence, node.DataDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            held.Dispose();
            throw new StartupException($"cannot open the journal: {ex.Message}; check virt.data-dir (or virt.persistence.sqlite.path) and its permissions", ex);
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical); // a failed start is printed once, plainly, by RunAsync

        builder.Services.AddSingleton(_ => held); // disposed (unlocked) with the host
        builder.Services.Configure<NodeOptions>(configuration.GetSection("virt"));
        builder.Services.Configure<ApiOptions>(configuration.GetSection("virt:api"));
        builder.Services.Configure<LibvirtOptions>(configuration.GetSection("virt:libvirt"));
        builder.Services.Configure<VmDefaults>(configuration.GetSection("virt:vm"));
        builder.Services.Configure<BalancerOptions>(configuration.GetSection("virt:balancer"));
        builder.Services.Configure<PersistenceOptions>(configuration.GetSection("virt:persistence"));
        builder.Services.Configure<FencingOptions>(configuration.GetSection("virt:fencing"));
        builder.Services.AddSingleton<ApiContext>();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            foreach (var converter in ApiJson.Options.Converters)
                o.SerializerOptions.Converters.Add(converter);
        });

        var akkaConfig = AkkaConfig(resolved);
        var (host, port) = Endpoints.TryParse(node.Cluster.Listen, out var listen) ? listen : ("127.0.0.1", 4053);
        var publicHost = node.Cluster.PublicHost is { Length: > 0 } ph ? ph : host is "0.0.0.0" or "::" ? Environment.MachineName : host;
        var roles = node.Node.Roles is { Count: > 0 } r ? r : ["hypervisor"];
        var nodeName = node.NodeName;
        var lease = node.Cluster.Etcd.Enabled ? node.Cluster.Etcd.Lease() : null;
        builder.Services.AddAkka(SystemName, (akka, sp) =>
        {
            if (lease is not null)
                akka.WithEtcdLease(lease);
            akka.ConfigureLoggers(l =>
                {
                    l.ClearLoggers();
                    l.AddLoggerFactory();
                })
                .WithRemoting(new RemoteOptions { HostName = host, Port = port, PublicHostName = publicHost })
                .WithClustering(new ClusterOptions
                {
                    Roles = [.. roles, NodeRole.Of(nodeName), NodeRole.Member],
                    SeedNodes = node.Cluster.SeedNodes.Select(s => $"akka.tcp://{SystemName}@{s}").ToArray(),
                    MinimumNumberOfMembers = node.Cluster.EffectiveMinMembers,
                })
                .WithVirtPersistence(store)
                .WithActors(async (system, registry) =>
                {
                    var journal = await OpenReadJournal(system, store);
                    registry.Register<VmIndexKey>(system.ActorOf(VmIndex.Props(() => journal, vmDefaults, persistence.IndexRefresh), "vm-index"));
                    registry.Register<WatchdogKey>(system.ActorOf(WatchdogPetter.Props(fencing.Watchdog, WatchdogPetter.SystemdFromEnvironment()), "watchdog"));
                    registry.Register<NodeAgentKey>(system.ActorOf(NodeAgent.Props(libvirt, nodeName, node.Node.ReportInterval, node.Node.Attributes), ClusterNodeAgents.AgentName));
                })
                .WithActors((system, _, resolver) =>
                {
                    // Read when asked: the API's real port is known only once Kestrel listens, after the actor system started.
                    var server = resolver.GetService<IServer>();
                    system.ActorOf(NodeApiAddress.Props(() => AdvertisedApiAddress.Resolve(node.Node.Address, server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [], publicHost)), NodeApiAddress.ActorName);
                })
                .WithSingleton<BalancerKey>("balancer", (_, registry, _) => Restarted("balancer", BalancerActor.Props(balancer, registry.Get<VmIndexKey>(), () => registry.Get<VmRegion>(), () => registry.Get<FencerKey>())), new ClusterSingletonOptions { LogSingletonIdentificationFailure = false })
                .WithSingleton<FencerKey>("fencer", (_, registry, _) => Restarted("fencer", FencerActor.Props(new FencerSettings(fenceLevels.For, fencing.RetryInterval, fenceLevels.LevelTimeout), registry.Get<BalancerKey>())), new ClusterSingletonOptions { LogSingletonIdentificationFailure = false })
                .WithShardRegion<VmRegion>(
                    "vm",
                    (system, registry, _) =>
                    {
                        var settings = new VmEntitySettings(vmDefaults, persistence.SnapshotEvery, new ClusterNodeAgents(system), registry.Get<BalancerKey>(), nodeName);
                        return name => VmEntity.Props(name, settings);
                    },
                    new VmMessageExtractor(node.Cluster.Shards),
                    new ShardOptions { Role = NodeRole.Member, RememberEntities = true, RememberEntitiesStore = RememberEntitiesStore.Eventsourced, StateStoreMode = StateStoreMode.Persistence })
                .WithActors((system, registry) =>
                {
                    registry.Get<NodeAgentKey>().Tell(new NodeAgent.Wire(registry.Get<VmRegion>(), registry.Get<BalancerKey>(), registry.Get<FencerKey>(), registry.Get<WatchdogKey>()));
                    system.ActorOf(MembershipWatcher.Props(registry.Get<FencerKey>(), registry.Get<BalancerKey>()), "membership-watcher");
                    if (node.Cluster.SeedNodes.Count == 0)
                    {
                        var cluster = Akka.Cluster.Cluster.Get(system);
                        cluster.Join(cluster.SelfAddress); // a cluster of one
                    }
                })
                // Self-fence (issue 10): a node the cluster let go destroys its domains before its actor system ends.
                .AddHocon(SelfFenceTask.Hocon, HoconAddMode.Prepend)
                .WithActors((system, registry) => SelfFenceTask.Register(system, registry.Get<NodeAgentKey>(),
                    (configuration.GetSection("virt:fencing").Get<Fence.FencingOptions>() ?? new Fence.FencingOptions()).DestroysOnSelfFence))
                // end of self-fence
                .AddHocon(akkaConfig, HoconAddMode.Prepend); // last and prepended: the akka section of virt.conf wins
            if (lease is not null)
                akka.AddHocon(LeaseHocon(lease), HoconAddMode.Prepend); // over virt.conf's keep-majority: etcd was asked for
        });
        configure?.Invoke(builder.Services);

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(api.Endpoint());
            k.Limits.MaxRequestBodySize = api.MaxBodyBytes;
        });

        var app = builder.Build();
        _ = app.Services.GetRequiredService<DataDirectoryLock>(); // owned by the host from here: unlocked when it is disposed
        ApiErrors.Map(app);
        VmEndpoints.Map(app);
        DomainControlEndpoints.Map(app);
        app.UseWebSockets();
        ConsoleEndpoint.Map(app);
        NodeEndpoints.Map(app);
        ClusterEndpoints.Map(app);
        ClusterStatusEndpoints.Map(app);
        ShardingEndpoints.Map(app);
        RuleEndpoints.Map(app);
        LabelEndpoints.Map(app);
        FenceEndpoints.Map(app);
        EventEndpoints.Map(app);
        PaletteEndpoints.Map(app);
        app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogInformation(
            "virt-node {Node}: journal {Journal}, libvirt {Uri}, API on {Listen}, cluster endpoint {Host}:{Port}",
            nodeName, store.Describe, libvirt.ResolvedUri, api.Listen, publicHost, port));
        return app;
    }

    /// <summary>
    /// A persistent singleton under a back-off supervisor: a failed write (the journal down, or a write that lost to the
    /// previous holder's while two nodes briefly both took themselves for the oldest) stops a persistent actor, and the
    /// singleton manager would not start it again; the supervisor does, after 1 s (up to 10 s), and it recovers.
    /// </summary>
    private static Props Restarted(string name, Props props) =>
        Akka.Pattern.BackoffSupervisor.Props(Akka.Pattern.Backoff.OnStop(props, name, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 0.2, maxNrOfRetries: -1));

    /// <summary>How soon a singleton tries its lease again after etcd refused it (held by a node not yet expired). Akka's: 5s.</summary>
    private static readonly TimeSpan LeaseRetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// With etcd: the SBR's lease-majority, and <c>use-lease</c> for every singleton (the shard coordinator too), so a
    /// side cut off from etcd can neither survive a partition nor keep running the balancer or the coordinator.
    /// </summary>
    private static string LeaseHocon(Actors.Cluster.EtcdLeaseOption lease) => $$"""
        akka.cluster.split-brain-resolver {
          active-strategy = lease-majority
          lease-majority.lease-implementation = "{{lease.ConfigPath}}"
        }
        akka.cluster.singleton {
          use-lease = "{{lease.ConfigPath}}"
          lease-retry-interval = {{(long)LeaseRetryInterval.TotalMilliseconds}}ms
        }
        """;

    /// <summary>
    /// The read side of the journal. Opening it waits (5 s, blocking) for the write journal to have created its tables;
    /// when several nodes start at once on a new database that can take longer, so it is opened off the actor
    /// threads and tried again for a minute before start-up gives up with a plain error.
    /// </summary>
    private static async Task<SqlReadJournal> OpenReadJournal(ActorSystem system, JournalStore store)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                return await Task.Run(() => PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier));
            }
            catch (Exception ex) when (DateTime.UtcNow < deadline && ex is AggregateException or AskTimeoutException)
            {
                Akka.Event.LoggingExtensions.Warning(system.Log, "the journal ({0}) is not ready yet: {1}; trying again", store.Describe, ex.GetBaseException().Message);
            }
            catch (Exception ex) when (ex is AggregateException or AskTimeoutException)
            {
                throw new StartupException($"the journal ({store.Describe}) did not become ready within a minute: {ex.GetBaseException().Message}; check that the database is reachable and virt may create tables in it");
            }
        }
    }

    /// <summary>The journal and snapshot store (Akka.Persistence.Sql), VM events tagged, and Virt's serializer for everything it owns.</summary>
    public static AkkaConfigurationBuilder WithVirtPersistence(this AkkaConfigurationBuilder akka, JournalStore store) => akka
        .WithSqlPersistence(
            store.Journal,
            store.Snapshots,
            journal => journal.AddWriteEventAdapter<VmEventTagger>("vm-tagger", [typeof(VmEvent)]))
        .WithCustomSerializer("virt", [typeof(IVirtSerializable)], system => new VirtSerializer(system));

    /// <summary>The resolved <c>akka</c> section of the configuration, for Akka's own parser (which only ever sees resolved JSON).</summary>
    public static Akka.Configuration.Config AkkaConfig(HoconObject resolved)
    {
        var root = new HoconObject(new HoconPosition("(akka)", 0, 0));
        if (resolved["akka"] is HoconObject akka)
            root.Set("akka", akka);
        return Akka.Configuration.ConfigurationFactory.ParseString(HoconJson.Write(root));
    }
}
