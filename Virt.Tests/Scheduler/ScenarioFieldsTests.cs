using Virt.Scheduler;

namespace Virt.Tests.Scheduler;

/// <summary>The scenario fields of issue 13: read, written back, and refused with a clear message when wrong.</summary>
public sealed class ScenarioFieldsTests
{
    private const string Valid = """
        { "now": "2026-12-07T10:00:00+01:00",
          "policy": {"negative_score_forbids": true, "stickiness": 20, "preempt": true},
          "nodes": [{"name": "n1", "capacity": {"vcpu": 32, "memory_mib": 131072}, "attributes": {"rack": "r1", "kernel": "6.10"}},
                    {"name": "n2", "capacity": {"vcpu": 32, "memory_mib": 131072}, "attributes": {"rack": "r2", "kernel": "6.9"}}],
          "vms": [{"name": "db-1", "demand": {"vcpu": 2}, "group": "db", "migration_threshold": 1, "failure_timeout_s": 60},
                  {"name": "db-2", "demand": {"vcpu": 2}, "group": "db"},
                  {"name": "app", "demand": {"vcpu": 2}}],
          "rules": [{"name": "app-with-db", "kind": "colocation", "vms": ["app"], "with": "db-1", "score": "INFINITY", "node_attribute": "rack"},
                    {"name": "db-spread", "kind": "colocation", "vms": ["db-1", "db-2"], "score": "-INFINITY", "node_attribute": "rack", "at_most": 1},
                    {"name": "app-after-db", "kind": "order", "vms": ["app"], "start_after": ["db"], "order": "optional"},
                    {"name": "new-kernel", "kind": "location", "vms": ["app"], "score": 50,
                     "expr": {"and": [{"attribute": "kernel", "op": "gte", "value": "6.10", "type": "version"},
                                      {"attribute": "rack", "op": "not_in", "value": ["r9"]},
                                      {"or": [{"date": {"start": "2026-12-01", "end": "2026-12-31T23:59:59Z"}},
                                              {"date_spec": {"weekdays": "1-5", "hours": "9-16"}}]}]}}],
          "action": {"kind": "evacuate", "nodes": ["n2"], "unplaceable": "stop"} }
        """;

    [Fact]
    public void Reads_every_new_field()
    {
        var p = ScenarioReader.Read(Valid);
        Assert.Equal(DateTimeOffset.Parse("2026-12-07T09:00:00Z"), p.Now);
        Assert.Equal(20, p.Policy!.Stickiness);
        Assert.Equal((1, 60.0, "db"), (p.Vms[0].MigrationThreshold!.Value, p.Vms[0].FailureTimeoutSeconds!.Value, p.Vms[0].Group!));
        var with = (ColocationRule)p.Rules[0];
        Assert.Equal(("db-1", "rack"), (with.With!, with.NodeAttribute!));
        Assert.Equal(1, ((ColocationRule)p.Rules[1]).AtMost);
        var order = (OrderRule)p.Rules[2];
        Assert.Equal(["db"], order.StartAfter);
        Assert.False(order.Mandatory);
        var terms = ((AllOf)((LocationRule)p.Rules[3]).Expression).Terms;
        Assert.Equal(AttributeType.Version, ((AttributeTest)terms[0]).Type);
        Assert.Equal(AttributeOp.NotIn, ((AttributeTest)terms[1]).Op);
        var range = (DateRange)((AnyOf)terms[2]).Terms[0];
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T00:00:00+01:00"), range.Start); // a bare date is midnight in now's offset
        Assert.Equal(new PlanAction.Evacuate(["n2"], Unplaceable.Stop).Unplaceable, ((PlanAction.Evacuate)p.Action).Unplaceable);
    }

    [Fact]
    public void A_written_scenario_reads_back_the_same_and_plans_the_same()
    {
        var p = ScenarioReader.Read(Valid);
        var json = ScenarioWriter.Json(p);
        var again = ScenarioReader.Read(json);
        Assert.Equal(json, ScenarioWriter.Json(again));
        Assert.Equal(Strip(ResultWriter.Json(PlacementEngine.Plan(p))), Strip(ResultWriter.Json(PlacementEngine.Plan(again))));
    }

    [Theory]
    [InlineData("\"now\": \"2026-12-07T10:00:00+01:00\",", "\"nwo\": \"2026-12-07T10:00:00+01:00\",", "the scenario: unknown field 'nwo'; the nearest known one is 'now' (known: now, overcommit, reserve_failures, policy, nodes, vms, rules, action)")]
    [InlineData("\"stickiness\": 20", "\"stickyness\": 20", "policy: unknown field 'stickyness'; the nearest known one is 'stickiness'")]
    [InlineData("\"migration_threshold\": 1", "\"migration_treshold\": 1", "VM 'db-1': unknown field 'migration_treshold'; the nearest known one is 'migration_threshold'")]
    [InlineData("\"capacity\": {\"vcpu\": 32, \"memory_mib\": 131072}, \"attributes\": {\"rack\": \"r1\"", "\"capacity\": {\"vcpu\": 32, \"memory_mib\": 131072}, \"atributes\": {\"rack\": \"r1\"", "node 'n1': unknown field 'atributes'; the nearest known one is 'attributes'")]
    [InlineData("\"with\": \"db-1\"", "\"whit\": \"db-1\"", "rule 'app-with-db': unknown field 'whit'; the nearest known one is 'with'")]
    [InlineData("\"order\": \"optional\"", "\"order\": \"optional\", \"score\": 5", "rule 'app-after-db': field 'score' belongs to location and colocation rules; here the fields are name, kind, vms, start_after, order")]
    [InlineData("\"score\": 50,", "\"score\": 50, \"with\": \"db-1\",", "rule 'new-kernel': field 'with' belongs to colocation rules; here the fields are name, kind, vms, score, expr")]
    [InlineData("\"type\": \"version\"", "\"typ\": \"version\"", "rule 'new-kernel': expr.and[0]: unknown field 'typ'; the nearest known one is 'type'")]
    [InlineData("\"op\": \"not_in\"", "\"op\": \"not-in\"", "rule 'new-kernel': expr.and[1]: unknown op 'not-in'; the nearest is 'not_in' (use eq, ne, lt, lte, gt, gte, in, not_in, defined, not_defined)")]
    [InlineData("\"type\": \"version\"", "\"type\": \"semver\"", "rule 'new-kernel': expr.and[0]: type 'semver' is not one of string, integer, number, version")]
    [InlineData("\"value\": \"6.10\", \"type\": \"version\"", "\"value\": \"6.x\", \"type\": \"version\"", "rule 'new-kernel': expr.and[0]: value '6.x' is not a version like 1.2.3 (type version)")]
    [InlineData("\"hours\": \"9-16\"", "\"hours\": \"9-25\"", "rule 'new-kernel': expr.and[2].or[1].date_spec.hours: '9-25' is outside 0-23 or runs backwards")]
    [InlineData("\"hours\": \"9-16\"", "\"hour\": \"9-16\"", "rule 'new-kernel': expr.and[2].or[1].date_spec: unknown field 'hour'; the nearest known one is 'hours'")]
    [InlineData("\"start\": \"2026-12-01\"", "\"start\": \"2026-13-01\"", "rule 'new-kernel': expr.and[2].or[0].date.start: '2026-13-01' is not an ISO 8601 date and time with an offset, like \"2026-12-24T18:00:00Z\" or \"2026-12-24T18:00:00+01:00\"")]
    [InlineData("\"now\": \"2026-12-07T10:00:00+01:00\"", "\"now\": \"2026-12-07T10:00:00\"", "now: '2026-12-07T10:00:00' is not an ISO 8601 date and time with an offset, like \"2026-12-24T18:00:00Z\" or \"2026-12-24T18:00:00+01:00\"")]
    [InlineData("\"now\": \"2026-12-07T10:00:00+01:00\",", "", "rule 'new-kernel': expr.and[2].or[0].date.start: '2026-12-01' is not an ISO 8601 date and time with an offset, like \"2026-12-24T18:00:00Z\" or \"2026-12-24T18:00:00+01:00\" (a bare date needs the scenario's now for its offset)")]
    [InlineData("\"at_most\": 1", "\"at_most\": 0", "rule 'db-spread': at_most must be 1 or more, not 0")]
    [InlineData("\"score\": \"-INFINITY\", \"node_attribute\": \"rack\", \"at_most\": 1", "\"score\": 10, \"at_most\": 2", "rule 'db-spread': at_most is a spread limit: it goes with score -INFINITY and no \"with\"")]
    [InlineData("\"with\": \"db-1\"", "\"with\": \"app\"", "rule 'app-with-db': 'app' is both the anchor (with) and in vms; a VM cannot follow itself")]
    [InlineData("\"with\": \"db-1\"", "\"with\": \"db-9\"", "rule 'app-with-db': with names 'db-9', which is not a known VM")]
    [InlineData("\"start_after\": [\"db\"]", "\"start_after\": [\"cache\"]", "rule 'app-after-db': 'cache' is neither a VM nor a group")]
    [InlineData("\"group\": \"db\", \"migration", "\"group\": \"app\", \"migration", "group 'app' has the name of a VM; order rules could not tell them apart: rename one")]
    [InlineData("\"order\": \"optional\"", "\"order\": \"maybe\"", "rule 'app-after-db': order 'maybe' is not one of mandatory, optional")]
    [InlineData("\"unplaceable\": \"stop\"", "\"unplaceable\": \"kill\"", "action evacuate: unplaceable 'kill' is not one of keep, stop")]
    [InlineData("\"nodes\": [\"n2\"], \"unplaceable\": \"stop\"", "\"nodes\": [\"n2\"], \"unplacable\": \"stop\"", "action evacuate: unknown field 'unplacable'; the nearest known one is 'unplaceable'")]
    [InlineData("\"kind\": \"evacuate\", \"nodes\": [\"n2\"], \"unplaceable\": \"stop\"", "\"kind\": \"repair\", \"nodes\": [\"n2\"]", "action repair: field 'nodes' belongs to the evacuate and fail actions; here the fields are kind, unplaceable")]
    [InlineData("\"failure_timeout_s\": 60", "\"failure_timeout_s\": -1", "VM 'db-1': failure_timeout_s must be a number, 0 or more, not -1")]
    public void Bad_input_names_the_field_and_what_is_wrong(string from, string to, string message)
    {
        Assert.Contains(from, Valid);
        var ex = Assert.Throws<ScenarioException>(() => ScenarioReader.Read(Valid.Replace(from, to)));
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void Cycles_of_waiting_are_refused_naming_the_rules()
    {
        var json = Valid.Replace("\"rules\": [", "\"rules\": [{\"name\": \"db-after-app\", \"kind\": \"order\", \"vms\": [\"db-1\"], \"start_after\": [\"app\"]},");
        var ex = Assert.Throws<ScenarioException>(() => ScenarioReader.Read(json));
        Assert.Equal("rules app-with-db, db-after-app make a cycle (app -> db-1 -> app): each waits for the next, so none could be placed or started first", ex.Message);
    }

    [Fact]
    public void A_cycle_through_an_infinity_group_is_refused_too()
    {
        var json = Valid.Replace("\"rules\": [", "\"rules\": [{\"name\": \"pair\", \"kind\": \"colocation\", \"vms\": [\"db-1\", \"db-2\"], \"score\": \"INFINITY\"}, {\"name\": \"db-2-with-app\", \"kind\": \"colocation\", \"vms\": [\"db-2\"], \"with\": \"app\", \"score\": 10},");
        var ex = Assert.Throws<ScenarioException>(() => ScenarioReader.Read(json));
        Assert.StartsWith("rules app-with-db, db-2-with-app make a cycle", ex.Message);
    }

    [Fact]
    public void A_date_rule_built_in_code_without_now_is_refused()
    {
        var problem = new PlacementProblem(
            [new NodeSpec("n1", new Dictionary<string, double> { ["vcpu"] = 4 }, new Dictionary<string, string>())],
            [new VmSpec("v", new Dictionary<string, double>())],
            [new LocationRule("weekdays", ["v"], 10, new DateSpec([new DateSpecRange(DateField.Weekdays, 1, 5)]))],
            new PlanAction.Place());
        var ex = Assert.Throws<ScenarioException>(() => PlacementEngine.Plan(problem));
        Assert.StartsWith("rule 'weekdays': a date expression needs the scenario's \"now\"", ex.Message);
    }

    private static string Strip(string json) => System.Text.RegularExpressions.Regex.Replace(json, "\"elapsed_ms\": [0-9.]+", "");
}
