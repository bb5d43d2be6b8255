using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Virt.Tests.Support;

/// <summary>
/// A real PostgreSQL 15 for the tests (Debian's <c>postgresql</c>): <c>initdb</c> and <c>pg_ctl</c> on a free port in a
/// directory of its own, as the postgres user when the tests run as root. One server per test run, started on first
/// use and stopped when the test process exits; each test class takes a fresh database of its own.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<Task<PostgresServer>> Started = new(() => Start());
    private static int _databases;
    private readonly string _bin;
    private readonly string _data;
    private readonly string _listen;

    private PostgresServer(string bin, string directory, int port, string host, string listen)
    {
        _bin = bin;
        Directory = directory;
        _data = Path.Combine(directory, "data");
        Port = port;
        Host = host;
        _listen = listen;
    }

    public static Task<PostgresServer> Shared => Started.Value;

    public string Directory { get; }

    public int Port { get; }

    /// <summary>The address its connection strings name (127.0.0.1 unless started with another).</summary>
    public string Host { get; }

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = Host, Port = Port, Username = "postgres", Database = database, Pooling = true }.ToString();

    /// <summary>A new, empty database; its connection string.</summary>
    public async Task<string> CreateDatabase(string prefix = "virt")
    {
        var name = $"{prefix}_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}";
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>
    /// A server of the caller's own (not the shared one), listening on 127.0.0.1 and <paramref name="listenAddress"/>,
    /// trusting clients from <paramref name="trustNetwork"/> (CIDR); its connection strings name that address. The
    /// caller stops it (<see cref="StopAsync"/>), and may restart it (<see cref="RestartAsync"/>).
    /// </summary>
    public static Task<PostgresServer> StartOwn(string listenAddress, string trustNetwork) => Start(listenAddress, trustNetwork);

    private static async Task<PostgresServer> Start(string? listenAddress = null, string? trustNetwork = null)
    {
        var bin = System.IO.Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d).Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
                  ?? throw new InvalidOperationException("PostgreSQL is not installed: apt-get install -y postgresql (scripts/test does this)");
        var directory = Path.Combine(Path.GetTempPath(), $"virt-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..32]);
        System.IO.Directory.CreateDirectory(directory);
        if (Environment.UserName == "root")
            await Run("chown", "postgres:postgres", directory);
        var listen = listenAddress is null ? "127.0.0.1" : $"127.0.0.1,{listenAddress}";
        var server = new PostgresServer(bin, directory, FreePort(), listenAddress ?? "127.0.0.1", listen);
        await server.AsPostgres(Path.Combine(bin, "initdb"), "-D", server._data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8");
        if (trustNetwork is not null)
            await File.AppendAllTextAsync(Path.Combine(server._data, "pg_hba.conf"), $"host all all {trustNetwork} trust\n");
        await server.PgCtlStart();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        return server;
    }

    private Task PgCtlStart() =>
        AsPostgres(Path.Combine(_bin, "pg_ctl"), "-D", _data, "-l", Path.Combine(Directory, "log"), "-w", "-t", "60", "-o",
            $"-p {Port} -k {Directory} -c listen_addresses={_listen} -c fsync=off -c max_connections=300", "start");

    /// <summary>Stops it at once (clients see their connections cut) and starts it again on the same data and port.</summary>
    public async Task RestartAsync()
    {
        await AsPostgres(Path.Combine(_bin, "pg_ctl"), "-D", _data, "-m", "immediate", "-w", "stop");
        await PgCtlStart();
    }

    /// <summary>Stops a server of its own (<see cref="StartOwn"/>) and removes its directory.</summary>
    public Task StopAsync() => Task.Run(Stop);

    private void Stop()
    {
        try
        {
            AsPostgres(Path.Combine(_bin, "pg_ctl"), "-D", _data, "-m", "immediate", "stop").Wait(TimeSpan.FromSeconds(20));
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception)
        {
            // Best effort at exit: a leftover server dies with the machine's test run.
        }
    }

    private Task AsPostgres(string program, params string[] args) =>
        Environment.UserName == "root" ? Run("runuser", ["-u", "postgres", "--", program, .. args]) : Run(program, args);

    private static Task Run(string program, params string[] args) => ChildProcess.Output(program, args, TimeSpan.FromSeconds(90));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
