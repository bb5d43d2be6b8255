using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Virt.Actors.Persistence.Sqlite;
using Virt.Actors.Runtime;

namespace Virt.Node.Hosting;

/// <summary>Composition root of the daemon: binds options, opens storage, starts the actor system, waits for a signal.</summary>
internal static class NodeDaemon
{
    public static async Task<int> RunAsync(IConfiguration configuration, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<NodeOptions>(configuration.GetSection("virt"));
        builder.Services.Configure<SqlitePersistenceOptions>(configuration.GetSection("virt:persistence:sqlite"));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<ActorSystemService>();

        using var host = builder.Build();
        try
        {
            await host.RunAsync(cancellationToken);
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"virt-node: configuration error: {ex.Message}");
            return 2;
        }
    }
}

/// <summary>Owns the actor system and the journal for the daemon's lifetime.</summary>
internal sealed class ActorSystemService(
    IOptions<NodeOptions> node,
    IOptions<SqlitePersistenceOptions> sqlite,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedService
{
    private ActorSystem? _system;
    private SqliteDatabase? _db;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = sqlite.Value;
        if (string.IsNullOrEmpty(options.Path))
            options.Path = Path.Combine(node.Value.DataDir, "journal.db");
        _db = new SqliteDatabase(options);
        _system = ActorSystem.Create("virt", new ActorSystemOptions { Time = time, LoggerFactory = loggers, Throughput = node.Value.Actors.Throughput });
        loggers.CreateLogger("virt-node").LogInformation("virt-node {Node} ready; journal at {Path}", node.Value.NodeName, options.Path);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_system is not null)
            await _system.TerminateAsync();
        _db?.Dispose();
    }
}
