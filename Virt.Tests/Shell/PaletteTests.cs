using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Virt.Hocon;
using Virt.Node.Api;
using Virt.Node.Configuration;
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

    private const string Prompt = "virt:palette-node>";
    private readonly TempDirectory _dir = new("virt-palette");
    private readonly SimulatedHost _host = new();
    private readonly int _port = FreePort();
    private WebApplication? _app;

    private string Address => $"127.0.0.1:{_port}";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await StopNode();
        _host.Dispose();
        _dir.Dispose();
    }

    /// <summary>A whole virt-node in this process on <see cref="_port"/>, with the extra palette or without.</summary>
    private async Task StartNode(bool withHealthPalette)
    {
        var resolved = NodeConfiguration.Load(null, [$"virt.data-dir={_dir.Path}", $"virt.libvirt.uri={_host.Uri}", $"virt.api.listen={Address}", "virt.cluster.listen=127.0.0.1:0", "virt.node.name=palette-node"], _ => null);
        _app = NodeDaemon.Build(resolved, services =>
        {
            if (withHealthPalette)
                services.AddSingleton(new PaletteEndpoints.Contribution(HealthPalette));
        });
        await _app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri("http://" + Address) };
        await Eventually.Until(async () => (await http.GetAsync("/v1/health")).IsSuccessStatusCode, "the node is healthy");
    }

    private async Task StopNode()
    {
        if (_app is null)
            return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    private TmuxSession Shell() =>
        TmuxSession.Start([ChildProcess.Dotnet, Binaries.Virt, Address], new Dictionary<string, string> { ["VIRT_HISTORY"] = _dir.File("history") });

    [Fact]
    public async Task A_palette_added_on_the_node_is_offered_helped_completed_and_run_by_the_shell()
    {
        Assert.Null(BuiltinPalettes.Document.Palettes.Find(p => p.Name == "health"));
        await StartNode(withHealthPalette: true);
        using var http = new HttpClient { BaseAddress = new Uri("http://" + Address) };
        var document = await http.GetFromJsonAsync<JsonNode>("/v1/palettes");
        Assert.Equal(("virt", "palette-node"), (document!["cluster"]!.GetValue<string>(), document["node"]!.GetValue<string>()));

        using var shell = Shell();
        await shell.WaitFor(s => s.EndsWith(Prompt, StringComparison.Ordinal), "the prompt");
        shell.Type("help");
        shell.Keys("Enter");
        await shell.WaitFor(s => s.Contains("health show") && s.Contains("This node's health"), "help lists the node's new palette");
        shell.Keys("C-l");
        shell.Type("hea");
        shell.Keys("Tab");
        shell.Type("s");
        shell.Keys("Tab");
        await shell.WaitFor(s => s.Split('\n')[^1] == $"{Prompt} health show", "Tab completes the new palette and its command");
        shell.Keys("Enter");
        await shell.WaitFor(s => s.Contains("status   ok") && s.Contains("libvirt  connected"), "the new command runs and prints its fields");

        var (exit, json, stderr) = await VirtCli.Against(Address, "health", "show", "--json");
        Assert.True(exit == 0, stderr);
        Assert.Equal("ok", JsonNode.Parse(json)!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_shell_left_open_while_the_node_gains_a_palette_offers_it()
    {
        await StartNode(withHealthPalette: false);
        using var shell = Shell();
        await shell.WaitFor(s => s.EndsWith(Prompt, StringComparison.Ordinal), "the prompt");
        shell.Type("health show");
        shell.Keys("Enter");
        await shell.WaitFor(s => s.Contains("virt: unknown command 'health'") && s.EndsWith(Prompt, StringComparison.Ordinal), "the node has no such palette yet");

        // The node is upgraded in place (same address, same data) with the new palette; the shell stays open.
        await StopNode();
        await StartNode(withHealthPalette: true);
        shell.Keys("C-l");
        shell.Type("health show");
        shell.Keys("Enter");
        await shell.WaitFor(s => s.Contains("status   ok"), "the shell asked the node again and ran the new command");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
