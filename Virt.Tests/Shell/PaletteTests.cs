using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Virt.Hocon;
using Virt.Node.Api;
using Virt.Node.Hosting;
using Virt.Shell.Palettes;
using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary>The shell's commands come from the node's /v1/palettes: a palette the node adds appears in a shell that has never heard of it.</summary>
public sealed class PaletteTests : IAsyncLifetime
{
    /// <summary>A palette this shell's built-in copy does not have, over an endpoint the node has.</summary>
    private const string HealthPalette = """
        {"palettes": [{"name": "health", "description": "Is this node well?", "commands": [{
          "name": "show", "description": "This node's health: libvirt, VMs recovered, cluster joined.",
          "request": {"method": "GET", "path": "/v1/health"},
          "output": {"fields": [{"label": "status", "value": "{status}"}, {"label": "libvirt", "value": "{libvirt|bool:connected:unreachable}"}]}}]}]}
        """;

    private readonly TempDirectory _dir = new("virt-palette");
    private readonly SimulatedHost _host = new();
    private WebApplication _app = null!;
    private string _address = "";

    public async Task InitializeAsync()
    {
        var resolved = NodeConfiguration.Load(null, [$"virt.data-dir={_dir.Path}", $"virt.libvirt.uri={_host.Uri}", "virt.api.listen=127.0.0.1:0", "virt.node.name=palette-node"], _ => null);
        _app = NodeDaemon.Build(new ConfigurationBuilder().AddHocon(resolved).Build(), services => services.AddSingleton(new PaletteEndpoints.Contribution(HealthPalette)));
        await _app.StartAsync();
        _address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()["http://".Length..];
        using var http = new HttpClient { BaseAddress = new Uri("http://" + _address) };
        await Eventually.Until(async () => (await http.GetAsync("/v1/health")).IsSuccessStatusCode, "the node is healthy");
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _host.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void The_shells_built_in_palettes_are_the_nodes_own()
    {
        var node = PaletteEndpoints.Document(new ServiceCollection().BuildServiceProvider());
        var builtin = JsonNode.Parse(BuiltinPalettes.Json())!;
        Assert.True(JsonNode.DeepEquals(node["palettes"], builtin["palettes"]), "Virt.Shell/Palettes/palettes.json differs from the node's PaletteEndpoints.Palettes: copy the node's palettes into the shell");
        Assert.True(JsonNode.DeepEquals(node["completions"], builtin["completions"]));
        Assert.Null(BuiltinPalettes.Document.Palettes.Find(p => p.Name == "health"));
    }

    [Fact]
    public async Task A_palette_added_on_the_node_is_offered_helped_completed_and_run_by_the_shell()
    {
        using var http = new HttpClient { BaseAddress = new Uri("http://" + _address) };
        var document = await http.GetFromJsonAsync<JsonNode>("/v1/palettes");
        Assert.Equal(("virt", "palette-node"), (document!["cluster"]!.GetValue<string>(), document["node"]!.GetValue<string>()));

        using var shell = TmuxSession.Start([ChildProcess.Dotnet, Binaries.Virt, _address], new Dictionary<string, string> { ["VIRT_HISTORY"] = _dir.File("history") });
        await shell.WaitFor(s => s.EndsWith("virt:palette-node>", StringComparison.Ordinal), "the prompt");
        shell.Type("help");
        shell.Keys("Enter");
        await shell.WaitFor(s => s.Contains("health show") && s.Contains("This node's health"), "help lists the node's new palette");
        shell.Keys("C-l");
        shell.Type("hea");
        shell.Keys("Tab");
        shell.Type("s");
        shell.Keys("Tab");
        await shell.WaitFor(s => s.Split('\n')[^1] == "virt:palette-node> health show", "Tab completes the new palette and its command");
        shell.Keys("Enter");
        await shell.WaitFor(s => s.Contains("status   ok") && s.Contains("libvirt  connected"), "the new command runs and prints its fields");

        var (exit, json, stderr) = await VirtCli.Against(_address, "health", "show", "--json");
        Assert.True(exit == 0, stderr);
        Assert.Equal("ok", JsonNode.Parse(json)!["status"]!.GetValue<string>());
    }
}
