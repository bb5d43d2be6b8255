using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Virt.Shell.Palettes;
using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary><c>virt HOST:PORT</c> with no command, in a real terminal (tmux), against a real virt-node process.</summary>
public sealed class InteractiveShellTests : IAsyncLifetime
{
    private const string Prompt = "virt:proc-node> ";
    private readonly SingleNode _one = new("virt-tty");

    public Task InitializeAsync() => _one.InitializeAsync();

    public Task DisposeAsync() => _one.DisposeAsync();

    private async Task<TmuxSession> Shell()
    {
        var shell = TmuxSession.Start([ChildProcess.Dotnet, Binaries.Virt, _one.Node.Address], new Dictionary<string, string> { ["VIRT_HISTORY"] = _one.Dir.File("history") });
        await shell.WaitFor(s => s.EndsWith(Prompt.TrimEnd(), StringComparison.Ordinal), "the prompt names the cluster and the node");
        return shell;
    }

    private static Task Line(TmuxSession shell, string text) =>
        shell.WaitFor(s => s.Split('\n')[^1].TrimEnd() == (Prompt + text).TrimEnd(), $"the line reads '{text}'");

    private async Task Create(string name) =>
        (await _one.Node.Http.PostAsJsonAsync("/v1/vms", new { name, vcpus = 1, memory = "512MiB" })).EnsureSuccessStatusCode();

    [Fact]
    public async Task Tab_completes_commands_options_and_the_vm_names_the_node_has()
    {
        await Create("web-1");
        await Create("web-2");
        await Create("db-1");
        using var shell = await Shell();

        shell.Type("vm sta");
        shell.Keys("Tab");
        await Line(shell, "vm start ");
        shell.Type("w");
        shell.Keys("Tab");
        await Line(shell, "vm start web-");
        shell.Keys("Tab"); // two fit: both are listed under the line
        var screen = await shell.WaitFor(s => s.Contains("web-1") && s.Contains("web-2"), "both web VMs are offered");
        Assert.DoesNotContain("db-1", screen);
        shell.Type("2 --w");
        shell.Keys("Tab");
        await Line(shell, "vm start web-2 --wait ");
        shell.Keys("Enter");
        await shell.WaitFor(s => s.Contains("web-2: running"), "web-2 started and waited for");
        Assert.Equal("stopped", (await _one.Node.Get("/v1/vms/web-1"))["state"]!.GetValue<string>());

        // At a terminal the table is in colour: a running VM's state in green.
        shell.Type("vm list");
        shell.Keys("Enter");
        await shell.WaitFor(s => s.Contains("NAME") && s.EndsWith(Prompt.TrimEnd(), StringComparison.Ordinal), "the table");
        Assert.Contains("\e[32mrunning", shell.Screen(escapes: true));
    }

    [Fact]
    public async Task Tab_after_label_offers_the_labels_the_vms_have_and_after_remove_label_their_keys()
    {
        (await _one.Node.Http.PostAsJsonAsync("/v1/vms", new { name = "web-1", vcpus = 1, memory = "512MiB", labels = new { app = "web", tier = "front" } })).EnsureSuccessStatusCode();
        (await _one.Node.Http.PostAsJsonAsync("/v1/vms", new { name = "db-1", vcpus = 1, memory = "512MiB", labels = new { app = "db" } })).EnsureSuccessStatusCode();
        await Eventually.Until(() => _one.Node.Get("/v1/labels"), l => l.AsArray().Count == 3, "the node lists the three labels");
        using var shell = await Shell();

        shell.Type("vm stop --label a");
        shell.Keys("Tab");
        await Line(shell, "vm stop --label app="); // what app=db and app=web have in common
        shell.Keys("Tab");
        var screen = await shell.WaitFor(s => s.Contains("app=db") && s.Contains("app=web"), "both app labels are offered");
        Assert.DoesNotContain("tier=front", screen);
        shell.Type("w");
        shell.Keys("Tab");
        await Line(shell, "vm stop --label app=web ");
        shell.Keys("C-u");
        shell.Type("vm update web-1 --remove-label t");
        shell.Keys("Tab");
        await Line(shell, "vm update web-1 --remove-label tier ");
    }

    [Fact]
    public async Task Ctrl_c_stops_a_follow_and_leaves_the_shell_at_its_prompt()
    {
        await Create("web-1");
        using var shell = await Shell();
        shell.Type("events --follow");
        shell.Keys("Enter");
        await shell.WaitFor(s => s.Contains("defined"), "the history");
        (await _one.Node.Http.PostAsync("/v1/vms/web-1/start", null)).EnsureSuccessStatusCode();
        await shell.WaitFor(s => s.Contains("started"), "a live line");
        shell.Keys("C-c");
        await shell.WaitFor(s => s.EndsWith(Prompt.TrimEnd(), StringComparison.Ordinal), "the prompt is back");
        shell.Type("vm list");
        shell.Keys("Enter");
        await shell.WaitFor(s => s.Contains("web-1") && s.Contains("MEMORY"), "the shell still runs commands");
    }

    [Fact]
    public async Task History_recalls_with_up_survives_the_shell_and_ctrl_r_searches_it()
    {
        using (var first = await Shell())
        {
            first.Type("vm list");
            first.Keys("Enter");
            await first.WaitFor(s => s.Contains("No VMs."), "vm list ran");
            first.Type("node show");
            first.Keys("Enter");
            await first.WaitFor(s => s.Contains("libvirt"), "node show ran");
            first.Keys("Up");
            await Line(first, "node show");
            first.Keys("Up");
            await Line(first, "vm list");
            first.Keys("Down");
            await Line(first, "node show");
            first.Keys("C-u");
            first.Type("exit");
            first.Keys("Enter");
            await first.WaitFor(s => s.Contains("[exited 0]"), "exit leaves with status 0");
        }

        Assert.Equal(["vm list", "node show", "exit"], File.ReadAllLines(_one.Dir.File("history")));
        using var second = await Shell();
        second.Keys("Up");
        await Line(second, "exit");
        second.Keys("C-u", "C-r");
        second.Type("vm l");
        await second.WaitFor(s => s.Split('\n')[^1].StartsWith("(reverse-i-search)`vm l': vm list", StringComparison.Ordinal), "Ctrl-R finds vm list");
        second.Keys("Enter");
        await second.WaitFor(s => s.Split('\n').Count(l => l.StartsWith("No VMs.", StringComparison.Ordinal)) == 1 && s.EndsWith(Prompt.TrimEnd(), StringComparison.Ordinal), "the found command ran");
    }

    [Fact]
    public async Task An_unknown_command_is_one_line_and_the_shell_goes_on()
    {
        using var shell = await Shell();
        shell.Type("vm strat web-1");
        shell.Keys("Enter");
        var screen = await shell.WaitFor(s => s.Contains("did you mean 'start'?") && s.EndsWith(Prompt.TrimEnd(), StringComparison.Ordinal), "an error, then the prompt again");
        var lines = screen.Split('\n');
        Assert.Equal(Prompt + "vm strat web-1", lines[^3]);
        var vmCommands = JsonNode.Parse(BuiltinPalettes.Json())!["palettes"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "vm")!["commands"]!.AsArray().Select(c => c!["name"]!.GetValue<string>());
        Assert.Equal($"virt: vm: unknown command 'strat'; did you mean 'start'?; the commands are {string.Join(", ", vmCommands)}", lines[^2]);
    }
}
