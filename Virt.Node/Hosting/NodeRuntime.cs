using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Virt.Actors.Cluster;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.Etcd;
using Virt.Actors.Cluster.InProcess;
using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;
using Virt.Actors.Runtime;
using Virt.Actors.Vm;
using Virt.Node.Agent;

namespace Virt.Node.Hosting;

/// <summary>
/// Everything the daemon runs, started and stopped with the host: the SQLite journal, the actor system, the node
/// agent (libvirt), the VM directory, and the cluster member (on etcd when endpoints are configured, else on an
/// in-process store: the same code either way). The API reaches VMs only through <see cref="Directory"/>.
/// </summary>
internal sealed class NodeRuntime(
    IOptions<NodeOptions> node,
    IOptions<SqlitePersistenceOptions> sqlite,
    IOptions<LibvirtOptions> libvirt,
    IOptions<VmDefaults> vmDefaults,
    IOptions<ApiOptions> api,
    IOptions<ClusterOptions> cluster,
    IServer server,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private SqliteDatabase? _db;
    private SqliteJournal? _journal;

    public ActorSystem System { get; private set; } = null!;

    public IEventJournal Journal => _journal!;

    public IActorRef Agent { get; private set; } = null!;

    public IActorRef Directory { get; private set; } = null!;

    public ICoordination Coordination { get; private set; } = null!;

    public IActorRef ClusterMember { get; private set; } = null!;

    public ClusterOptions Cluster => cluster.Value;

    public string NodeName => node.Value.NodeName;

    public TimeSpan Timeout => api.Value.Timeout;

    public VmDefaults Defaults => vmDefaults.Value;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Coordination = OpenCoordination();
        var options = sqlite.Value;
        if (string.IsNullOrEmpty(options.Path))
            options.Path = Path.Combine(node.Value.DataDir, "journal.db");
        try
        {
            _db = new SqliteDatabase(options);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new StartupException($"cannot open the journal at {options.Path}: {ex.Message}; check virt.data-dir (or virt.persistence.sqlite.path) and its permissions", ex);
        }

        var serializer = VmSerialization.Register(new EventSerializer());
        _journal = new SqliteJournal(_db, serializer, time, writerId: NodeName);
        var snapshots = new SqliteSnapshotStore(_db, serializer, time);
        System = ActorSystem.Create("virt", new ActorSystemOptions { Time = time, LoggerFactory = loggers, Throughput = node.Value.Actors.Throughput });
        Agent = System.ActorOf(NodeActor.Props(libvirt.Value, NodeName), "node");
        Directory = System.ActorOf(VmDirectory.Props(new VmHost(NodeName, vmDefaults.Value, _journal, snapshots, Agent)), "vms");
        Agent.Tell(new NodeActor.Subscribe(Directory));
        var roles = node.Value.Node.Roles is { Count: > 0 } r ? r : ["hypervisor"];
        ClusterMember = System.ActorOf(ClusterMemberActor.Props(Coordination, cluster.Value, NodeName, roles), "cluster");
        Agent.Tell(new NodeActor.Subscribe(ClusterMember, DomainEvents: false)); // for the host's capacity
        lifetime.ApplicationStarted.Register(() => ClusterMember.Tell(new ClusterProtocol.JoinAt(AdvertisedAddress())));
        loggers.CreateLogger("virt-node").LogInformation("virt-node {Node}: journal {Path}, libvirt {Uri}, API on {Listen}, cluster {Cluster}",
            NodeName, options.Path, libvirt.Value.ResolvedUri, api.Value.Listen,
            cluster.Value.UsesEtcd ? "on etcd " + string.Join(",", cluster.Value.Etcd.Endpoints) : "in-process (single node)");
        return Task.CompletedTask;
    }

    private ICoordination OpenCoordination()
    {
        var settings = cluster.Value;
        try
        {
            settings.Lease.Validate();
            return settings.UsesEtcd
                ? new EtcdCoordination(settings.Etcd, loggers.CreateLogger("etcd"))
                : new InMemoryCoordination(time);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new StartupException(ex.Message, ex);
        }
    }

    /// <summary>virt.node.address, else the address the API is bound to (a wildcard listen gives the host name).</summary>
    private string AdvertisedAddress()
    {
        if (node.Value.Node.Address is { Length: > 0 } configured)
            return configured;
        var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (bound is null || !Uri.TryCreate(bound, UriKind.Absolute, out var uri))
            return api.Value.Listen;
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? Environment.MachineName : uri.Host;
        return $"{host}:{uri.Port}";
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Leave first, so another node takes the singletons at once instead of after the lease TTL.
        if (ClusterMember is not null)
        {
            try
            {
                await ClusterMember.Ask<ClusterProtocol.Left>(new ClusterProtocol.Leave(), cluster.Value.LeaseTtl);
            }
            catch (Exception ex) when (ex is TimeoutException or AskTimeoutException)
            {
                loggers.CreateLogger("virt-node").LogWarning("leaving the cluster took too long; the lease will expire on its own");
            }
        }

        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (System is not null)
            await System.TerminateAsync();
        if (Coordination is not null)
            await Coordination.DisposeAsync();
        Coordination = null!;
        if (_journal is not null)
            await _journal.DisposeAsync();
        _db?.Dispose();
        _journal = null;
        _db = null;
    }
}

/// <summary>virt-node cannot start; the message says why and what to change.</summary>
internal sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
