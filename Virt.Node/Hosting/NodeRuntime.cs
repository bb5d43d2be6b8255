using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;
using Virt.Actors.Runtime;
using Virt.Actors.Vm;
using Virt.Node.Agent;

namespace Virt.Node.Hosting;

/// <summary>
/// Everything the daemon runs, started and stopped with the host: the SQLite journal, the actor system, the node
/// agent (libvirt) and the VM directory. The API reaches VMs only through <see cref="Directory"/>.
/// </summary>
internal sealed class NodeRuntime(
    IOptions<NodeOptions> node,
    IOptions<SqlitePersistenceOptions> sqlite,
    IOptions<LibvirtOptions> libvirt,
    IOptions<VmDefaults> vmDefaults,
    IOptions<ApiOptions> api,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private SqliteDatabase? _db;
    private SqliteJournal? _journal;

    public ActorSystem System { get; private set; } = null!;

    public IEventJournal Journal => _journal!;

    public IActorRef Agent { get; private set; } = null!;

    public IActorRef Directory { get; private set; } = null!;

    public string NodeName => node.Value.NodeName;

    public TimeSpan Timeout => api.Value.Timeout;

    public VmDefaults Defaults => vmDefaults.Value;

    public Task StartAsync(CancellationToken cancellationToken)
    {
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
        loggers.CreateLogger("virt-node").LogInformation("virt-node {Node}: journal {Path}, libvirt {Uri}, API on {Listen}",
            NodeName, options.Path, libvirt.Value.ResolvedUri, api.Value.Listen);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (System is not null)
            await System.TerminateAsync();
        if (_journal is not null)
            await _journal.DisposeAsync();
        _db?.Dispose();
        _journal = null;
        _db = null;
    }
}

/// <summary>virt-node cannot start; the message says why and what to change.</summary>
internal sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
