using System.Text.Json;

namespace Virt.Tests.Harness;

/// <summary>scenario.json is read strictly (an unknown field names the nearest known one), and every scenario directory reads.</summary>
public sealed class ScenarioReaderTests
{
    private const string Minimal = """
        {"hosts": [{"name": "hv-1"}], "vms": [{"name": "a1", "host": "hv-1"}], "steps": [{"fault": "kill9", "host": "hv-1"}], "expect": {"down": ["hv-1"]}}
        """;

    private static Scenario Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return ScenarioReader.Parse("test", doc.RootElement);
    }

    [Fact]
    public void A_minimal_scenario_reads_with_its_defaults()
    {
        var s = Parse(Minimal);
        Assert.Equal([(8, 8192L)], s.Hosts);
        Assert.Equal(["power"], s.FenceLevels);
        Assert.Equal(new LabVm("a1", Host: "hv-1"), Assert.Single(s.Vms));
        Assert.Equal(new Step(StepKind.Fault, "kill9", "hv-1"), Assert.Single(s.Steps));
        Assert.Equal(["hv-1"], s.Expect.Down);
    }

    [Theory]
    [InlineData("""{"hosts": [{"name": "hv-1", "memoryMB": 1}], "expect": {}}""", "hosts[0].memoryMB: unknown field; did you mean 'memoryMib'?")]
    [InlineData("""{"hosts": [{"name": "hv-1"}], "setps": [], "expect": {}}""", "setps: unknown field; did you mean 'steps'?")]
    [InlineData("""{"hosts": [{"name": "hv-1"}], "steps": [{"fault": "kill-9", "host": "hv-1"}], "expect": {}}""", "steps[0].fault: 'kill-9' is not one of")]
    [InlineData("""{"hosts": [{"name": "hv-1"}], "steps": [{"fault": "kill9", "host": "hv-4"}], "expect": {}}""", "steps[0].host: 'hv-4' is not one of hv-1")]
    [InlineData("""{"hosts": [{"name": "hv-1"}], "steps": [{"fault": "drop", "host": "hv-1"}], "expect": {}}""", "steps[0]: drop needs \"to\"")]
    [InlineData("""{"hosts": [{"name": "hv-2"}], "expect": {}}""", "hosts[0].name: 'hv-2' must be hv-1")]
    [InlineData("""{"hosts": [{"name": "hv-1"}], "expect": {"vms": {"a1": {"sate": "running"}}}}""", "expect.vms.a1.sate: unknown field; did you mean 'state'?")]
    [InlineData("""{"hosts": [{"name": "hv-1"}]}""", "expect: required")]
    public void A_wrong_field_is_an_error_that_says_where_and_what_was_meant(string json, string expected)
    {
        var error = Assert.Throws<ScenarioException>(() => Parse(json));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Every_scenario_directory_reads_and_has_a_readme()
    {
        var root = Path.Combine(Support.Binaries.RepoRoot, "Virt.Tests", "Harness", "Scenarios");
        var dirs = Directory.GetDirectories(root);
        Assert.True(dirs.Length >= 5, $"only {dirs.Length} scenarios");
        foreach (var dir in dirs)
        {
            var s = ScenarioReader.Read(dir);
            Assert.NotEmpty(s.Steps);
            Assert.True(File.Exists(Path.Combine(dir, "README.md")), $"{s.Name} has no README.md");
        }
    }

    [Fact]
    public void A_seed_gives_the_same_schedule_every_time_and_seeds_differ()
    {
        string[] hosts = ["hv-1", "hv-2", "hv-3"];
        string[] vms = ["r1", "r2", "r3"];
        Assert.Equal(RandomSchedule.Generate(42, hosts, vms), RandomSchedule.Generate(42, hosts, vms));
        var faults = Enumerable.Range(1, 200).Select(seed => RandomSchedule.Generate(seed, hosts, vms).First(s => s.Kind == StepKind.Fault).What).ToHashSet();
        Assert.Equal(["drop", "kill9", "link-down", "postgres-restart", "power-off", "stop"], faults.Order());
        var withEtcd = Enumerable.Range(1, 200).Select(seed => RandomSchedule.Generate(seed, hosts, vms, etcd: true).First(s => s.Kind == StepKind.Fault).What).ToHashSet();
        Assert.Contains("etcd-member-down", withEtcd);
    }
}
