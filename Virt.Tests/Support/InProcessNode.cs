using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Virt.Node.Agent;
using Virt.Node.Configuration;
using Virt.Node.Hosting;

namespace Virt.Tests.Support;

/// <summary>
/// A whole virt-node (journal, actor system, libvirt test driver, Kestrel on a free port) inside the test process,
/// built from the same embedded defaults plus test overrides. Restartable on the same data directory. The journal is
/// SQLite under the data directory unless <paramref name="postgres"/> gives a PostgreSQL connection string.
/// </summary>
public sealed class InProcessNode : IAsyncDisposable
{
    private readonly List<string> _overrides;
    private readonly string? _postgres;
    private WebApplication? _app;

    public InProcessNode(string dataDir, string libvirtUri, params string[] overrides)
        : this(dataDir, libvirtUri, overrides, null)
    {
    }

    private InProcessNode(string dataDir, string libvirtUri, string[] overrides, string? postgres)
    {
        DataDir = dataDir;
        _postgres = postgres;
        _overrides =
        [
            $"virt.data-dir={dataDir}",
            $"virt.libvirt.uri={libvirtUri}",
            "virt.api.listen=127.0.0.1:0",
            "virt.cluster.listen=127.0.0.1:0",
            "virt.node.name=test-node",
            "virt.persistence.sqlite.synchronous=normal",
            "virt.persistence.index-refresh=50ms",
            .. postgres is null ? Array.Empty<string>() : [$"virt.persistence.postgresql.connection-string={postgres}"],
            .. overrides,
        ];
    }

    /// <summary>A node whose journal is in PostgreSQL (<paramref name="postgres"/>: a connection string), or SQLite when null.</summary>
    public static InProcessNode OnJournal(string dataDir, string libvirtUri, string? postgres, params string[] overrides) => new(dataDir, libvirtUri, overrides, postgres);

    public string DataDir { get; }

    public HttpClient Http { get; private set; } = null!;

    public ActorSystem ActorSystem => _app!.Services.GetRequiredService<ActorSystem>();

    public ActorRegistry Registry => _app!.Services.GetRequiredService<ActorRegistry>();

    /// <summary>This host's node agent, to read libvirt's view of the host (or to act behind Virt's back).</summary>
    public IActorRef Agent => Registry.Get<NodeAgentKey>();

    /// <summary>This node's incarnation: the host half of a fencing token the agent accepts.</summary>
    public long Incarnation => Akka.Cluster.Cluster.Get(ActorSystem).SelfUniqueAddress.Uid;

    /// <param name="waitForHealthy">Wait until libvirt is connected, the node is up and every VM's entity runs (/v1/health is 200).</param>
    public async Task Start(bool waitForHealthy = true)
    {
        var resolved = NodeConfiguration.Load(null, _overrides, _ => null);
        var problems = ConfigurationValidator.Check(resolved);
        Assert.True(problems.Count == 0, string.Join('\n', problems));
        _app = NodeDaemon.Build(resolved);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
        if (waitForHealthy)
            await WaitUntilHealthy();
    }

    public async Task WaitUntilHealthy()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await Http.GetAsync("/v1/health")).StatusCode != System.Net.HttpStatusCode.OK)
        {
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"node did not become healthy: {await Http.GetStringAsync("/v1/health")}");
            await Task.Delay(10);
        }
    }

    public async Task Stop()
    {
        if (_app is null)
            return;
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    /// <summary>VM events stored in the journal, counted in the database itself (not through Virt).</summary>
    public async Task<long> StoredVmEvents()
    {
        const string sql = "SELECT COUNT(*) FROM journal WHERE persistence_id LIKE 'vm-%'";
        if (_postgres is not null)
        {
            await using var pg = new NpgsqlConnection(_postgres);
            await pg.OpenAsync();
            await using var count = new NpgsqlCommand(sql, pg);
            return Convert.ToInt64(await count.ExecuteScalarAsync());
        }

        await using var sqlite = new SqliteConnection($"Data Source={Path.Combine(DataDir, "journal.db")};Mode=ReadOnly");
        await sqlite.OpenAsync();
        await using var command = sqlite.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>The domains libvirt has on this host, as the node agent lists them.</summary>
    public async Task<List<DomainEntry>> Domains() => (await Agent.Ask<NodeStatus>(new GetNodeStatus(), TimeSpan.FromSeconds(10))).Domains.ToList();

    public async Task<bool> RunsInLibvirt(string name) => (await Domains()).Any(d => d.Name == name && d.State == "running");

    public async Task<JsonNode> Json(HttpMethod method, string path, object? body = null, int? expect = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = body is string raw ? new StringContent(raw, System.Text.Encoding.UTF8, "application/json") : JsonContent.Create(body);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (expect is { } status)
            Assert.True((int)response.StatusCode == status, $"{method} {path}: expected {status}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    public Task<JsonNode> Get(string path, int expect = 200) => Json(HttpMethod.Get, path, expect: expect);

    public Task<JsonNode> Post(string path, object? body = null, int? expect = null) => Json(HttpMethod.Post, path, body, expect);

    /// <summary>Polls the VM until its state is one of <paramref name="states"/> (the actors work asynchronously).</summary>
    public Task<JsonNode> WaitForState(string vm, params string[] states) =>
        WaitFor(vm, view => states.Contains(view["state"]!.GetValue<string>()), string.Join("/", states));

    /// <summary>Polls the VM's view until <paramref name="condition"/> holds.</summary>
    public Task<JsonNode> WaitFor(string vm, Func<JsonNode, bool> condition, string what) =>
        Eventually.Until(() => Get($"/v1/vms/{vm}"), condition, $"{vm} is {what}");

    public async ValueTask DisposeAsync() => await Stop();
}
