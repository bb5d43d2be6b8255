using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary>
/// <c>virt vm update</c> and <c>virt vm edit</c> (with a scripted editor standing in for a person) against a real
/// virt-node process; what changed is read back from the node's API, the spec a VM will start with.
/// </summary>
public sealed class SpecEditCliTests : IAsyncLifetime
{
    private readonly SingleNode _one = new("virt-edit");

    public Task InitializeAsync() => _one.InitializeAsync();

    public Task DisposeAsync() => _one.DisposeAsync();

    private Task<(int Exit, string Out, string Err)> Virt(params string[] args) => VirtCli.Against(_one.Node.Address, args);

    /// <summary>virt with EDITOR set to a shell script: <paramref name="script"/> runs with the file as $1.</summary>
    private Task<(int Exit, string Out, string Err)> WithEditor(string script, params string[] args)
    {
        var editor = _one.Dir.File($"editor-{Guid.NewGuid():N}.sh");
        File.WriteAllText(editor, "#!/bin/sh\nset -e\n" + script + "\n");
        File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return VirtCli.Run(new Dictionary<string, string> { ["VIRT_API"] = _one.Node.Address, ["EDITOR"] = editor, ["VISUAL"] = "", ["TMPDIR"] = _one.Dir.Path }, args);
    }

    private async Task<JsonNode> Spec(string name) => JsonNode.Parse(await _one.Node.Http.GetStringAsync($"/v1/vms/{name}/spec"))!;

    [Fact]
    public async Task Update_changes_a_stopped_vm_at_once_and_says_when_a_running_one_takes_its_new_size()
    {
        await Virt("vm", "create", "--name", "web-1", "--vcpus", "2", "--memory", "1GiB");
        var (exit, stdout, stderr) = await Virt("vm", "update", "web-1", "--memory", "2GiB", "--priority", "3");
        Assert.True(exit == 0, stderr);
        Assert.Equal("web-1: updated (2 vCPU, 2048 MiB)", stdout);

        await Virt("vm", "start", "web-1", "--wait");
        (exit, stdout, _) = await Virt("vm", "update", "web-1", "--memory", "8GiB", "--vcpus", "4");
        Assert.Equal((0, "web-1: updated (2 vCPU, 2048 MiB); it keeps running as it is until its next start, which takes 4 vCPU, 8192 MiB"), (exit, stdout));
        (_, stdout, _) = await Virt("vm", "show", "web-1");
        Assert.Contains("pending   4 vCPU, 8192 MiB, 0 disk(s), 0 NIC(s) at its next start", stdout);
        Assert.Equal(8192, (await Spec("web-1"))["memoryMib"]!.GetValue<long>());

        (exit, _, stderr) = await Virt("vm", "update", "web-1", "--memory", "lots");
        Assert.Equal(2, exit);
        Assert.Contains("--memory 'lots' is not a size", stderr);
        (exit, _, stderr) = await Virt("vm", "update", "web-1", "--vcpus", "0");
        Assert.Equal(1, exit);
        Assert.Contains("vcpus: must be between 1 and 4096, not 0", stderr);
    }

    [Fact]
    public async Task Edit_sends_what_the_editor_saved()
    {
        await Virt("vm", "create", "--name", "db-1", "--vcpus", "2", "--memory", "1GiB");
        var (exit, stdout, stderr) = await WithEditor("""sed -i 's/"vcpus": 2/"vcpus": 6/' "$1" """, "vm", "edit", "db-1");
        Assert.True(exit == 0, stderr);
        Assert.Equal("db-1: updated (6 vCPU, 1024 MiB)", stdout);
        Assert.Equal(6, (await Spec("db-1"))["vcpus"]!.GetValue<int>());

        (exit, stdout, _) = await WithEditor("true", "vm", "edit", "db-1"); // saved as it was
        Assert.Equal((0, "db-1: unchanged; nothing was sent"), (exit, stdout));
    }

    [Fact]
    public async Task A_refused_edit_comes_back_with_what_is_wrong_and_is_kept_when_it_is_not_fixed()
    {
        await Virt("vm", "create", "--name", "app-1", "--vcpus", "2", "--memory", "1GiB");
        var before = (await Spec("app-1")).ToJsonString();
        var seen = _one.Dir.File("seen.txt");

        // The "person" makes the same typo each time, and keeps what the editor showed them the second time.
        var (exit, _, stderr) = await WithEditor($"""sed -i 's/"vcpus": 2/"vcpsu": 4/' "$1"; cp "$1" {seen}""", "vm", "edit", "app-1");
        Assert.Equal(1, exit);
        Assert.Contains("vcpsu: unknown field; did you mean 'vcpus'?", stderr);
        Assert.Contains("// NOT CHANGED.", File.ReadAllText(seen)); // the second time the editor opened, the error was written above the spec
        Assert.Contains("//   vcpsu: unknown field; did you mean 'vcpus'?", File.ReadAllText(seen));
        var kept = System.Text.RegularExpressions.Regex.Match(stderr, @"kept in (\S+);").Groups[1].Value;
        Assert.Contains("\"vcpsu\": 4", File.ReadAllText(kept)); // nothing of the edit is lost
        Assert.Equal(before, (await Spec("app-1")).ToJsonString()); // and nothing changed on the node

        // Fixed from the kept file.
        (exit, var stdout, stderr) = await WithEditor("""sed -i 's/"vcpsu"/"vcpus"/' "$1" """, "vm", "edit", "app-1", "--from", kept);
        Assert.True(exit == 0, stderr);
        Assert.Equal("app-1: updated (4 vCPU, 1024 MiB)", stdout);
        Assert.Equal(4, (await Spec("app-1"))["vcpus"]!.GetValue<int>());

        (exit, _, stderr) = await WithEditor("""echo '{ "vcpus": ' > "$1" """, "vm", "edit", "app-1");
        Assert.Equal(1, exit);
        Assert.Contains("not valid JSON", stderr);
        (exit, _, stderr) = await WithEditor("exit 3", "vm", "edit", "app-1");
        Assert.Equal(1, exit);
        Assert.Contains("the editor exited with status 3; nothing was sent", stderr);
    }

    [Fact]
    public async Task An_edit_made_while_someone_else_changed_the_vm_reopens_with_their_change_and_the_new_spec_and_keeps_the_persons_text()
    {
        await Virt("vm", "create", "--name", "web-1", "--vcpus", "2", "--memory", "1GiB");
        var seen = _one.Dir.File("seen-conflict.txt");
        var count = _one.Dir.File("count");
        string Curl(string json) => $"curl -sf -X PATCH -H 'Content-Type: application/json' -d '{json}' http://{_one.Node.Address}/v1/vms/web-1 > /dev/null";
        var patch = Curl("""{"memory": "2GiB"}""");
        var priority = Curl("""{"priority": 9}""");

        // While the editor is open the first time, someone else gives web-1 2 GiB; the person meanwhile sets 4 vCPUs.
        // The second time, they read what the editor shows and keep the other change (memoryMib 2048) in their text.
        var (exit, stdout, stderr) = await WithEditor($"""
            n=$(cat {count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {count}
            if [ $n = 1 ]; then {patch}; sed -i 's/"vcpus": 2/"vcpus": 4/' "$1"
            else cp "$1" {seen}; sed -i 's/^  "memoryMib": 1024/  "memoryMib": 2048/' "$1"; fi
            """, "vm", "edit", "web-1");
        Assert.True(exit == 0, stderr);
        Assert.Equal("web-1: updated (4 vCPU, 2048 MiB)", stdout);
        Assert.Contains("its spec changed since you read it", stderr);
        var shown = File.ReadAllText(seen);
        Assert.Contains("// NOT CHANGED.", shown);
        Assert.Contains("//     memoryMib: 1024 -> 2048", shown); // what changed meanwhile
        Assert.Contains("//   The spec as it is now:", shown);
        Assert.Contains("//     \"memoryMib\": 2048,", shown);
        var text = string.Join('\n', shown.Split('\n').SkipWhile(l => l.StartsWith("//", StringComparison.Ordinal)));
        Assert.Contains("\"vcpus\": 4", text); // the person's text, as they left it
        Assert.Contains("\"memoryMib\": 1024", text);
        var spec = await Spec("web-1");
        Assert.Equal((4, 2048L), (spec["vcpus"]!.GetValue<int>(), spec["memoryMib"]!.GetValue<long>()));

        // Left as it was after such a conflict, nothing is sent over the other change; the edit is kept.
        File.Delete(count);
        (exit, _, stderr) = await WithEditor($"""
            n=$(cat {count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {count}
            if [ $n = 1 ]; then {priority}; sed -i 's/"vcpus": 4/"vcpus": 1/' "$1"; fi
            """, "vm", "edit", "web-1");
        Assert.Equal(1, exit);
        Assert.Contains("Your edit is kept in", stderr);
        spec = await Spec("web-1");
        Assert.Equal((4, 9), (spec["vcpus"]!.GetValue<int>(), spec["priority"]!.GetValue<int>()));
        var kept = System.Text.RegularExpressions.Regex.Match(stderr, @"kept in (\S+);").Groups[1].Value;
        Assert.Contains("\"vcpus\": 1", File.ReadAllText(kept));

        // The kept edit opened again is sent on the version the editor last showed: no change since, so it is done.
        (exit, stdout, stderr) = await WithEditor("""sed -i 's/"priority": 0/"priority": 9/' "$1" """, "vm", "edit", "web-1", "--from", kept);
        Assert.True(exit == 0, stderr);
        Assert.Equal((1, 9), ((await Spec("web-1"))["vcpus"]!.GetValue<int>(), (await Spec("web-1"))["priority"]!.GetValue<int>()));
    }
}
