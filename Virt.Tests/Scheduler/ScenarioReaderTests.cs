using Virt.Scheduler;

namespace Virt.Tests.Scheduler;

public sealed class ScenarioReaderTests
{
    private const string Valid = """
        { "overcommit": {"vcpu": 4.0},
          "reserve_failures": 1,
          "policy": {"strategy": "balanced", "preempt": false, "migration_threshold": 3, "failure_timeout_s": 600,
                     "min_gain": 0.05, "max_migrations": 20, "max_migrations_per_node": 2},
          "nodes": [{"name": "n1", "capacity": {"vcpu": 32, "memory_mib": 131072}, "attributes": {"rack": "r1"}, "state": "up"},
                    {"name": "n3", "capacity": {"vcpu": 32, "memory_mib": 131072}, "attributes": {"rack": "r2", "usb": 1}, "state": "draining"}],
          "vms": [{"name": "web-1", "demand": {"vcpu": 2, "memory_mib": 4096}, "priority": 10, "ha": true,
                   "node": null, "home": null, "failures": {"n3": {"count": 2, "last_s_ago": 30}}},
                  {"name": "db-1", "demand": {"vcpu": 2}}, {"name": "db-2", "demand": {"vcpu": 2}}, {"name": "signer", "demand": {}}],
          "rules": [{"name": "usb-pin", "kind": "location", "vms": ["signer"], "score": "INFINITY",
                     "expr": {"attribute": "usb", "op": "defined"}},
                    {"name": "db-apart", "kind": "colocation", "vms": ["db-1", "db-2"], "score": "-INFINITY"},
                    {"name": "near", "kind": "location", "vms": ["web-1"], "score": 50,
                     "expr": {"and": [{"attribute": "rack", "op": "eq", "value": "r1"},
                                      {"attribute": "ssd", "op": "defined"}]}}],
          "action": {"kind": "place"} }
        """;

    [Fact]
    public void Reads_the_documented_format()
    {
        var p = ScenarioReader.Read(Valid);
        Assert.Equal(4.0, p.Overcommit!["vcpu"]);
        Assert.Equal(1, p.ReserveFailures);
        Assert.Equal(NodeState.Draining, p.Nodes[1].State);
        Assert.Equal("1", p.Nodes[1].Attributes["usb"]);
        Assert.Equal(new FailureHistory(2, 30), p.Vms[0].Failures!["n3"]);
        Assert.True(p.Vms[1].Ha); // ha defaults to true
        Assert.Equal(Score.Infinity, ((LocationRule)p.Rules[0]).Score);
        Assert.IsType<AllOf>(((LocationRule)p.Rules[2]).Expression);
        Assert.IsType<PlanAction.Place>(p.Action);
    }

    [Fact]
    public void A_written_scenario_reads_back_the_same()
    {
        var p = ScenarioReader.Read(Valid);
        var again = ScenarioReader.Read(ScenarioWriter.Json(p));
        Assert.Equal(ScenarioWriter.Json(p), ScenarioWriter.Json(again));
    }

    [Theory]
    [InlineData("\"nodes\": [{\"name\": \"n1\"", "\"nodes\": [{\"name\": \"n1\", \"capacity\": {}}, {\"name\": \"n1\"", "duplicate node name 'n1'")]
    [InlineData("{\"name\": \"db-2\", \"demand\": {\"vcpu\": 2}}", "{\"name\": \"web-1\", \"demand\": {\"vcpu\": 2}}", "duplicate VM name 'web-1'")]
    [InlineData("\"vms\": [\"db-1\", \"db-2\"]", "\"vms\": [\"db-1\", \"db-9\"]", "rule 'db-apart': unknown VM 'db-9'")]
    [InlineData("\"capacity\": {\"vcpu\": 32, \"memory_mib\": 131072}, \"attributes\": {\"rack\": \"r1\"}", "\"capacity\": {\"vcpu\": -4}, \"attributes\": {\"rack\": \"r1\"}", "node 'n1': capacity 'vcpu' must be 0 or more, not -4")]
    [InlineData("{\"name\": \"db-1\", \"demand\": {\"vcpu\": 2}}", "{\"name\": \"db-1\", \"demand\": {\"vcpu\": -2}}", "VM 'db-1': demand 'vcpu' must be 0 or more, not -2")]
    [InlineData("{\"name\": \"db-1\", \"demand\": {\"vcpu\": 2}}", "{\"name\": \"db-1\", \"demand\": {\"gpu\": 1}}", "VM 'db-1': demands 'gpu' but no node has capacity 'gpu'")]
    [InlineData("\"op\": \"defined\"", "\"op\": \"exists\"", "rule 'usb-pin': expr: unknown op 'exists'; the nearest is 'eq' (use eq, ne, lt, lte, gt, gte, in, not_in, defined, not_defined)")]
    [InlineData("{\"attribute\": \"rack\", \"op\": \"eq\", \"value\": \"r1\"}", "{\"attribute\": \"rack\", \"op\": \"eq\"}", "rule 'near': expr.and[0]: op 'eq' needs \"value\" (a string or number)")]
    [InlineData("\"and\": [", "\"nand\": [", "rule 'near': expr: unknown field 'nand'; the nearest known one is 'and' (an expression has \"attribute\", \"and\", \"or\", \"date\" or \"date_spec\")")]
    [InlineData("\"action\": {\"kind\": \"place\"}", "\"action\": {\"kind\": \"shuffle\"}", "action.kind 'shuffle' is not one of place, evacuate, fail, rebalance, failback, repair")]
    [InlineData("\"action\": {\"kind\": \"place\"}", "\"action\": {\"kind\": \"evacuate\", \"nodes\": [\"n7\"]}", "action evacuate: unknown node 'n7'")]
    [InlineData("\"action\": {\"kind\": \"place\"}", "\"action\": {\"kind\": \"fail\"}", "action fail: nodes is missing")]
    [InlineData("\"score\": 50", "\"score\": \"lots\"", "rule 'near': score must be INFINITY, -INFINITY or a number, not \"lots\"")]
    [InlineData("\"state\": \"draining\"", "\"state\": \"asleep\"", "node 'n3': state 'asleep' is not one of up, draining, maintenance, down")]
    [InlineData("\"reserve_failures\": 1", "\"reserve_failures\": 3", "reserve_failures must be 0, 1 or 2, not 3")]
    [InlineData("\"node\": null, \"home\": null", "\"node\": \"n9\", \"home\": null", "VM 'web-1': node 'n9' is not a known node")]
    [InlineData("\"strategy\": \"balanced\"", "\"strategy\": \"random\"", "policy.strategy 'random' is not one of balanced, pack")]
    [InlineData("\"overcommit\": {\"vcpu\": 4.0}", "\"overcommit\": {\"vcpu\": 0}", "overcommit 'vcpu' must be more than 0, not 0")]
    public void Bad_input_names_the_item_and_what_is_wrong(string from, string to, string message)
    {
        Assert.Contains(from, Valid);
        var ex = Assert.Throws<ScenarioException>(() => ScenarioReader.Read(Valid.Replace(from, to)));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Malformed_json_says_where()
    {
        var ex = Assert.Throws<ScenarioException>(() => ScenarioReader.Read("{\n  \"nodes\": [\n    {\"name\": \"n1\",,}\n]}"));
        Assert.StartsWith("not valid JSON at line 3", ex.Message);
    }
}
