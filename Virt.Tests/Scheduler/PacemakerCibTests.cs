using System.Xml.Linq;
using Virt.Scheduler;
using static Virt.Tests.Scheduler.Scenarios;

namespace Virt.Tests.Scheduler;

/// <summary>The CIB export writes every rule kind the way crm_simulate reads it (checked side by side by scripts/compare-pacemaker).</summary>
public sealed class PacemakerCibTests
{
    private static XDocument Export(PlacementProblem p) => XDocument.Parse(PacemakerCib.Export(p));

    private static IEnumerable<XElement> All(XDocument d, string name) => d.Descendants(name);

    private static string? A(XElement e, string name) => (string?)e.Attribute(name);

    private static readonly NodeSpec[] Nodes = [Host("n1", attrs: [("rack", "r1"), ("kernel", "6.10")]), Host("n2", attrs: ("rack", "r2"))];

    [Fact]
    public void Directed_and_by_attribute_colocations_become_rsc_colocation_with_the_anchor_as_with_rsc()
    {
        var cib = Export(Problem(Nodes, [Vm("db"), Vm("app"), Vm("web")],
            [new ColocationRule("app-with-db", ["app", "web"], Score.Infinity, With: "db", NodeAttribute: "rack"), new ColocationRule("apart", ["app", "web"], Score.MinusInfinity)]));
        var directed = All(cib, "rsc_colocation").Where(c => A(c, "with-rsc") == "db").ToList();
        Assert.Equal(["app", "web"], directed.Select(c => A(c, "rsc")));
        Assert.All(directed, c => Assert.Equal(("INFINITY", "rack"), (A(c, "score"), A(c, "node-attribute"))));
        var apart = Assert.Single(All(cib, "rsc_colocation"), c => A(c, "id")!.StartsWith("apart"));
        Assert.Equal(("-INFINITY", null), (A(apart, "score"), A(apart, "node-attribute")));
    }

    [Fact]
    public void A_spread_limit_per_node_is_a_utilization_dimension_and_per_rack_is_reported_as_a_gap()
    {
        var webs = new[] { Vm("w1"), Vm("w2"), Vm("w3") };
        var cib = Export(Problem(Nodes, webs, [new ColocationRule("two", ["w1", "w2", "w3"], Score.MinusInfinity, AtMost: 2)]));
        Assert.All(All(cib, "node"), n => Assert.Equal("2", A(n.Descendants("nvpair").Single(p => A(p, "name") == "spread-two"), "value")));
        Assert.All(All(cib, "primitive"), r => Assert.Equal("1", A(r.Descendants("nvpair").Single(p => A(p, "name") == "spread-two"), "value")));
        Assert.Empty(All(cib, "rsc_colocation"));

        var perRack = PacemakerCib.Export(Problem(Nodes, webs, [new ColocationRule("two", ["w1", "w2", "w3"], Score.MinusInfinity, NodeAttribute: "rack", AtMost: 2)]));
        Assert.Contains("<!-- not as in Virt: rule two: at most 2 per rack has no Pacemaker equivalent; not exported -->", perRack);
    }

    [Fact]
    public void Order_rules_become_start_orders_between_every_member()
    {
        var vms = new[] { Vm("db-1") with { Group = "db" }, Vm("db-2") with { Group = "db" }, Vm("app") };
        var cib = Export(Problem(Nodes, vms, [new OrderRule("app-after-db", ["app"], ["db"], Mandatory: false)]));
        var orders = All(cib, "rsc_order").ToList();
        Assert.Equal([("db-1", "app"), ("db-2", "app")], orders.Select(o => (A(o, "first"), A(o, "then"))));
        Assert.All(orders, o => Assert.Equal(("Optional", "false"), (A(o, "kind"), A(o, "symmetrical"))));
    }

    [Fact]
    public void Typed_set_and_date_expressions_are_written_and_negated_exactly_for_infinity()
    {
        var rules = new PlacementRule[]
        {
            new LocationRule("new-kernel", ["a"], Score.Infinity, new AttributeTest("kernel", AttributeOp.Gte, "6.10", Type: AttributeType.Version)),
            new LocationRule("not-r9", ["a"], 20, new AttributeTest("rack", AttributeOp.NotIn, Values: ["r9", "r8"])),
            new LocationRule("xmas", ["a"], -100, new DateRange(DateTimeOffset.Parse("2026-12-24T00:00:00Z"), DateTimeOffset.Parse("2026-12-26T23:59:59Z"))),
            new LocationRule("office", ["a"], Score.Infinity, new DateSpec([new DateSpecRange(DateField.Hours, 9, 16)])),
        };
        var cib = Export(Problem(Nodes, [Vm("a")], rules, now: DateTimeOffset.Parse("2026-12-07T10:00:00Z")));
        var rule = (string id) => All(cib, "rsc_location").Single(l => A(l, "id") == id).Element("rule")!;

        // INFINITY "only where kernel >= 6.10" is -INFINITY where kernel < 6.10 or kernel is missing.
        var kernel = rule("new-kernel-a");
        Assert.Equal("-INFINITY", A(kernel, "score"));
        var negation = kernel.Element("rule")!;
        Assert.Equal("or", A(negation, "boolean-op"));
        Assert.Equal([("lt", "version"), ("not_defined", null)], negation.Elements("expression").Select(e => (A(e, "operation"), A(e, "type"))));

        var notIn = rule("not-r9-a").Element("rule")!;
        Assert.Equal("and", A(notIn, "boolean-op"));
        Assert.Equal(["ne", "ne"], notIn.Elements("expression").Select(e => A(e, "operation")));

        var xmas = rule("xmas-a").Element("date_expression")!;
        Assert.Equal(("in_range", "2026-12-24T00:00:00Z", "2026-12-26T23:59:59Z"), (A(xmas, "operation"), A(xmas, "start"), A(xmas, "end")));

        // Only 09:00-16:59 is -INFINITY at hours 0-8 or 17-23.
        var office = rule("office-a").Element("rule")!;
        Assert.Equal(["0-8", "17-23"], office.Elements("date_expression").Select(d => A(d.Element("date_spec")!, "hours")));
    }

    [Fact]
    public void Failure_settings_stickiness_running_vms_and_their_failures_are_in_the_cib()
    {
        var failures = new Dictionary<string, FailureHistory> { ["n1"] = new(2, 30) };
        var vms = new[] { Vm("db", node: "n2", failures: failures) with { MigrationThreshold = 1, FailureTimeoutSeconds = 60 } };
        var now = DateTimeOffset.Parse("2026-12-07T10:00:00Z");
        var cib = Export(Problem(Nodes, vms, policy: new PlacementPolicy(Stickiness: 50), now: now));
        var meta = All(cib, "primitive").Single().Element("meta_attributes")!.Elements("nvpair").ToDictionary(p => A(p, "name")!, p => A(p, "value"));
        Assert.Equal(("1", "60s"), (meta["migration-threshold"], meta["failure-timeout"]));
        var defaults = All(cib, "rsc_defaults").Single().Descendants("nvpair").ToDictionary(p => A(p, "name")!, p => A(p, "value"));
        Assert.Equal(("50", "3", "600s"), (defaults["resource-stickiness"], defaults["migration-threshold"], defaults["failure-timeout"]));

        var n2 = All(cib, "node_state").Single(n => A(n, "uname") == "n2");
        var start = n2.Descendants("lrm_rsc_op").Single();
        Assert.Equal(("start", "0", "db_start_0"), (A(start, "operation"), A(start, "rc-code"), A(start, "operation_key")));
        var n1 = All(cib, "node_state").Single(n => A(n, "uname") == "n1").Descendants("nvpair").ToDictionary(p => A(p, "name")!, p => A(p, "value"));
        Assert.Equal("2", n1["fail-count-db#start_0"]);
        Assert.Equal((now.ToUnixTimeSeconds() - 30).ToString(), n1["last-failure-db#start_0"]);
        Assert.Contains("crm_simulate -t 2026-12-07T10:00:00Z", PacemakerCib.Export(Problem(Nodes, vms, now: now)));
    }

    [Fact]
    public void Evacuated_nodes_are_in_standby_failed_ones_offline_and_gaps_are_said()
    {
        var vms = new[] { Vm("a", node: "n1") };
        var evacuate = Export(Problem(Nodes, vms, action: new PlanAction.Evacuate(["n1"])));
        var standby = All(evacuate, "node").Single(n => A(n, "uname") == "n1").Descendants("nvpair").Single(p => A(p, "name") == "standby");
        Assert.Equal("on", A(standby, "value"));
        var fail = Export(Problem(Nodes, vms, action: new PlanAction.Fail(["n1"])));
        Assert.Equal(["n2"], All(fail, "node_state").Select(n => A(n, "uname")));
        Assert.Contains("not as in Virt: negative_score_forbids is false", PacemakerCib.Export(Problem(Nodes, vms, policy: new PlacementPolicy(NegativeScoreForbids: false))));
    }
}
