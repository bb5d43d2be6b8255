using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Virt.Hocon;
using Virt.Node.Hosting;

namespace Virt.Tests.Support;

/// <summary>
/// A whole virt-node (journal, actors, libvirt test driver, Kestrel on a free port) inside the test process, built
/// from the same embedded defaults plus test overrides. Restartable on the same data directory.
/// </summary>
public sealed class InProcessNode : IAsyncDisposable
{
    private readonly List<string> _overrides;
    private WebApplication? _app;

    public InProcessNode(string dataDir, string libvirtUri, params string[] overrides)
    {
        DataDir = dataDir;
        _overrides =
        [
            $"virt.data-dir={dataDir}",
            $"virt.libvirt.uri={libvirtUri}",
            "virt.api.listen=127.0.0.1:0",
            "virt.node.name=test-node",
            "virt.persistence.sqlite.synchronous=normal",
            .. overrides,
        ];
    }

    public string DataDir { get; }

    public HttpClient Http { get; private set; } = null!;

    internal NodeRuntime Runtime { get; private set; } = null!;

    /// <param name="waitForHealthy">Wait until libvirt is connected and every VM recovered (/v1/health is 200).</param>
    public async Task Start(bool waitForHealthy = true)
    {
        var resolved = NodeConfiguration.Load(null, _overrides, _ => null);
        var configuration = new ConfigurationBuilder().AddHocon(resolved).Build();
        _app = NodeDaemon.Build(configuration);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
        Runtime = _app.Services.GetRequiredService<NodeRuntime>();
        if (waitForHealthy)
            await WaitUntilHealthy();
    }

    public async Task WaitUntilHealthy()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await Http.GetAsync("/v1/health")).StatusCode != System.Net.HttpStatusCode.OK)
        {
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"node did not become healthy: {await Http.GetStringAsync("/v1/node")}");
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
