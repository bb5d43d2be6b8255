using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary>One-shot <c>virt</c> against a real virt-node process: exit statuses, one-line errors, JSON and streams as scripts and people read them.</summary>
public sealed class ShellCommandLineTests : IAsyncLifetime
{
    private readonly SingleNode _one = new("virt-shell");

    public Task InitializeAsync() => _one.InitializeAsync();

    public Task DisposeAsync() => _one.DisposeAsync();

    private Task<(int Exit, string Out, string Err)> Virt(params string[] args) => VirtCli.Against(_one.Node.Address, args);

    private async Task Create(string name) =>
        (await _one.Node.Http.PostAsJsonAsync("/v1/vms", new { name, vcpus = 1, memory = "512MiB" })).EnsureSuccessStatusCode();

    [Theory]
    [InlineData("unknown command 'frobnicate'", "frobnicate")]
    [InlineData("vm: unknown command 'strat'; did you mean 'start'?", "vm", "strat", "web-1")]
    [InlineData("vm list: unknown option --frob", "vm", "list", "--frob")]
    [InlineData("vm start: give NAME or --label", "vm", "start")]
    [InlineData("vm stop: give NAME or --label, not both", "vm", "stop", "web-1", "--label", "app=web")]
    [InlineData("vm create: --vcpus 'two' is not a whole number", "vm", "create", "--name", "x", "--vcpus", "two", "--memory", "1GiB")]
    [InlineData("vm create: --restart 'sometimes' is not one of always, on-failure, never", "vm", "create", "--name", "x", "--vcpus", "1", "--memory", "1GiB", "--restart", "sometimes")]
    [InlineData("vm create: --memory '2 gigs' is not a size", "vm", "create", "--name", "x", "--vcpus", "1", "--memory", "2 gigs")]
    [InlineData("vm start: --timeout 'soon' is not a whole number", "vm", "start", "web-1", "--wait", "--timeout", "soon")]
    [InlineData("--api nowhere: not HOST:PORT", "--api", "nowhere", "vm", "list")]
    public async Task A_bad_command_line_exits_2_with_one_line_and_not_the_help(string message, params string[] args)
    {
        var (exit, stdout, stderr) = await Virt(args);
        Assert.Equal((2, ""), (exit, stdout));
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("virt: ", line);
        Assert.Contains(message, line);
        Assert.Empty(await _one.Node.Get("/v1/vms") as JsonArray ?? []); // nothing reached the node
    }

    [Fact]
    public async Task A_refusal_is_1_and_an_unreachable_node_is_3()
    {
        var (exit, _, stderr) = await Virt("vm", "start", "ghost", "--wait");
        Assert.Equal(1, exit);
        Assert.StartsWith("virt: no VM named 'ghost'", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        (exit, _, stderr) = await VirtCli.Against("127.0.0.1:9", "vm", "list");
        Assert.Equal(3, exit);
        Assert.Contains("cannot reach virt-node at 127.0.0.1:9", stderr);

        // A command the built-in palettes do not know may be the node's: unreachable, not "unknown command".
        (exit, _, stderr) = await VirtCli.Against("127.0.0.1:9", "tomorrows-palette", "list");
        Assert.Equal(3, exit);
        Assert.Contains("cannot reach virt-node at 127.0.0.1:9 to look up 'tomorrows-palette'", stderr);
    }

    [Fact]
    public async Task A_wait_that_runs_out_exits_4_distinct_from_a_refusal()
    {
        // A node whose VM never gets past "starting", so the wait can only run out.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var stuck = builder.Build();
        stuck.MapPost("/v1/vms/slow/start", () => Results.Json(new { name = "slow", state = "starting" }));
        stuck.MapGet("/v1/vms/slow", () => Results.Json(new { name = "slow", state = "starting" }));
        await stuck.StartAsync();
        var address = stuck.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var (exit, stdout, stderr) = await VirtCli.Against(address, "vm", "start", "slow", "--wait", "--timeout", "1");
        Assert.Equal((4, ""), (exit, stdout));
        Assert.Contains("slow: still starting after 1 s (waited for running or failed)", stderr);
    }

    [Fact]
    public async Task Events_as_json_lines_keep_the_plus_of_time_offsets()
    {
        await Create("web-1");
        var (exit, stdout, stderr) = await Virt("events", "--json");
        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.DoesNotContain("\\u002B", stdout);
        foreach (var line in lines)
        {
            var e = JsonNode.Parse(line)!;
            Assert.Equal("web-1", e["vm"]!.GetValue<string>());
            Assert.Matches(@"[+-]\d\d:\d\d$", e["at"]!.GetValue<string>());
            Assert.Contains(e["at"]!.GetValue<string>(), line); // the time as the node wrote it, '+' and all
        }
    }

    [Fact]
    public async Task Live_lines_of_events_follow_line_up_with_the_history_table()
    {
        await Create("web-1");
        Assert.Equal(0, (await Virt("vm", "start", "web-1", "--wait")).Exit);
        using var follow = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.Virt, "events", "--follow"], new Dictionary<string, string> { ["VIRT_API"] = _one.Node.Address });
        var header = await follow.WaitForLine(l => l.StartsWith("OFFSET"), TimeSpan.FromSeconds(30));
        await follow.WaitForLine(l => l.Contains("started"), TimeSpan.FromSeconds(30)); // the history's last line

        Assert.Equal(0, (await Virt("vm", "stop", "web-1", "--wait")).Exit);
        var live = await follow.WaitForLine(l => l.Contains("stop-requested"), TimeSpan.FromSeconds(30));
        foreach (var (column, value) in new[] { ("VM", "web-1"), ("EVENT", "stop-requested"), ("DETAIL", "stop requested") })
            Assert.True(header.IndexOf(column, StringComparison.Ordinal) == live.IndexOf(value, StringComparison.Ordinal), $"{column} is not lined up:\n{header}\n{live}");
    }

    [Fact]
    public async Task Completion_scripts_work_offline_and_complete_live_vm_names_from_the_node()
    {
        foreach (var shell in new[] { "bash", "zsh", "fish" })
        {
            var (exit, script, _) = await VirtCli.Against("127.0.0.1:9", "completion", shell);
            Assert.Equal(0, exit);
            Assert.Contains("__complete", script);
        }

        var (bad, _, badErr) = await VirtCli.Against("127.0.0.1:9", "completion", "tcsh");
        Assert.Equal(2, bad);
        Assert.Contains("completion: give one of bash, zsh, fish", badErr);

        await Create("web-1");
        await Create("web-2");
        await Create("db-1");
        var (_, names, _) = await Virt("__complete", "virt vm start w");
        Assert.Equal(["web-1", "web-2"], names.Split('\n'));
        (_, names, _) = await VirtCli.Against("127.0.0.1:9", "__complete", $"virt {_one.Node.Address} vm show d");
        Assert.Equal("db-1", names);
        var (_, commands, _) = await Virt("__complete", "virt vm st");
        Assert.Equal(["start", "stop"], commands.Split('\n'));
        var (_, options, _) = await Virt("__complete", "virt vm create --restart ");
        Assert.Equal(["always", "never", "on-failure"], options.Split('\n'));

        // --label offers the labels the VMs have, live from the node.
        (await _one.Node.Http.PatchAsJsonAsync("/v1/vms/web-1", new { labels = new { app = "web" } })).EnsureSuccessStatusCode();
        (await _one.Node.Http.PatchAsJsonAsync("/v1/vms/db-1", new { labels = new { app = "db", tier = "back" } })).EnsureSuccessStatusCode();
        await Eventually.Until(() => _one.Node.Get("/v1/labels"), l => l.AsArray().Count == 3, "the node lists the three labels");
        var (_, labels, _) = await Virt("__complete", "virt vm stop --label ");
        Assert.Equal(["app=db", "app=web", "tier=back"], labels.Split('\n'));
        (_, labels, _) = await Virt("__complete", "virt vm list -l app=w");
        Assert.Equal("app=web", labels);
        var (listed, table, _) = await Virt("vm", "labels");
        Assert.Equal(0, listed);
        Assert.Equal(["LABEL      VMS", "app=db       1", "app=web      1", "tier=back    1"], table.Split('\n'));
    }

    [Fact]
    public async Task The_bash_completion_script_completes_live_vm_names_in_bash()
    {
        await Create("web-1");
        await Create("db-1");
        // The script calls 'virt' from the PATH: here, a wrapper around this build.
        var bin = Directory.CreateDirectory(_one.Dir.File("bin")).FullName;
        File.WriteAllText(Path.Combine(bin, "virt"), $"#!/bin/sh\nexec '{ChildProcess.Dotnet}' '{Binaries.Virt}' \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "virt"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var script = """
            source <(virt completion bash)
            COMP_LINE='virt vm start w'; COMP_POINT=${#COMP_LINE}; _virt_complete; echo "start: ${COMPREPLY[*]}"
            COMP_LINE='virt vm s'; COMP_POINT=${#COMP_LINE}; _virt_complete; echo "vm: ${COMPREPLY[*]}"
            """;
        using var bash = ChildProcess.Start("bash", ["-c", script], new Dictionary<string, string> { ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}", ["VIRT_API"] = _one.Node.Address });
        var lines = new List<string>();
        while (await bash.ReadLine(TimeSpan.FromSeconds(60)) is { } line)
            lines.Add(line);
        Assert.Equal(["start: web-1", "vm: send-key show start stop sysrq"], lines);
    }

    [Fact]
    public async Task Commands_on_standard_input_run_in_order_until_one_fails_with_its_status()
    {
        using var shell = ChildProcess.Start("bash", ["-c", $"printf 'vm list\n# a comment\nvm show ghost\nnode show\n' | '{ChildProcess.Dotnet}' '{Binaries.Virt}' {_one.Node.Address}"]);
        var lines = new List<string>();
        while (await shell.ReadLine(TimeSpan.FromSeconds(60)) is { } line)
            lines.Add(line);
        Assert.Equal(1, await shell.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(["No VMs. Create one with: virt vm create --name web-1 --vcpus 2 --memory 2GiB"], lines); // node show never ran
        Assert.Contains("virt: no VM named 'ghost'", shell.Stderr);
    }

    [Fact]
    public async Task Help_and_plan_work_without_a_node()
    {
        var (exit, help, _) = await VirtCli.Against("127.0.0.1:9", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("Commands (built in: no node answered)", help);
        Assert.Contains("vm start NAME", help);

        (exit, help, _) = await Virt("help", "vm", "start");
        Assert.Equal(0, exit);
        Assert.Contains("Usage: virt vm start [NAME] [options]", help);
        Assert.Contains("--timeout N", help);
    }
}
