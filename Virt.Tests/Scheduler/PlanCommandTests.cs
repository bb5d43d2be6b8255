using System.Text.Json;
using Virt.Tests.Support;

namespace Virt.Tests.Scheduler;

/// <summary>virt plan, run as the real binary.</summary>
public sealed class PlanCommandTests
{
    private static async Task<(int Exit, string Stdout, string Stderr)> Virt(params string[] args)
    {
        using var process = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.Virt, .. args]);
        var lines = new List<string>();
        while (await process.ReadLine(TimeSpan.FromSeconds(60)) is { } line)
            lines.Add(line);
        return (await process.WaitForExit(TimeSpan.FromSeconds(60)), string.Join('\n', lines), process.Stderr);
    }

    private const string Scenario = """
        { "reserve_failures": 1,
          "nodes": [{"name": "n1", "capacity": {"vcpu": 8, "memory_mib": 16384}},
                    {"name": "n2", "capacity": {"vcpu": 8, "memory_mib": 16384}}],
          "vms": [{"name": "web-1", "demand": {"vcpu": 2, "memory_mib": 4096}, "priority": 10},
                  {"name": "big", "demand": {"vcpu": 2, "memory_mib": 20000}}],
          "action": {"kind": "place"} }
        """;

    [Fact]
    public async Task Json_output_has_the_documented_fields()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("s.json"), Scenario);
        var (exit, stdout, stderr) = await Virt("plan", dir.File("s.json"), "--json");
        Assert.True(exit == 0, stderr);
        var root = JsonDocument.Parse(stdout).RootElement;
        var decision = root.GetProperty("decisions")[0];
        Assert.Equal("web-1", decision.GetProperty("vm").GetString());
        Assert.Equal("start", decision.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, decision.GetProperty("from").ValueKind);
        Assert.Equal(1, decision.GetProperty("step").GetInt32());
        Assert.Equal(0, decision.GetProperty("after").GetArrayLength());
        Assert.False(string.IsNullOrEmpty(decision.GetProperty("why").GetString()));
        var unplaced = root.GetProperty("unplaced")[0];
        Assert.Equal("big", unplaced.GetProperty("vm").GetString());
        Assert.Equal("memory needs 20000 MiB, 16384 free", unplaced.GetProperty("reasons").GetProperty("n2").GetString());
        var reservation = root.GetProperty("reservation");
        Assert.Equal(1, reservation.GetProperty("failures").GetInt32());
        Assert.True(reservation.GetProperty("holds").GetBoolean());
        Assert.True(root.GetProperty("elapsed_ms").GetDouble() >= 0);
    }

    [Fact]
    public async Task Text_output_is_for_people()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("s.json"), Scenario);
        var (exit, stdout, _) = await Virt("plan", dir.File("s.json"));
        Assert.Equal(0, exit);
        Assert.Contains("start    web-1", stdout);
        Assert.Contains("not placed: big", stdout);
        Assert.Contains("reservation N+1: holds", stdout);
    }

    [Fact]
    public async Task Bad_scenarios_and_missing_files_exit_non_zero_naming_the_problem()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("bad.json"), Scenario.Replace("\"kind\": \"place\"", "\"kind\": \"dance\""));
        var (exit, stdout, stderr) = await Virt("plan", dir.File("bad.json"));
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Contains("bad.json: action.kind 'dance' is not one of place, evacuate, fail, rebalance, failback, repair", stderr);

        (exit, _, stderr) = await Virt("plan", dir.File("missing.json"));
        Assert.Equal(1, exit);
        Assert.Contains("cannot read", stderr);
    }
}
