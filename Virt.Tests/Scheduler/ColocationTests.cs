using Virt.Scheduler;
using static Virt.Tests.Scheduler.Scenarios;

namespace Virt.Tests.Scheduler;

/// <summary>Colocation with a direction, by node attribute, and spread limits.</summary>
public sealed class ColocationTests
{
    private static ColocationRule With(string name, string anchor, double score, string? attribute = null, params string[] dependents) =>
        new(name, dependents, score, With: anchor, NodeAttribute: attribute);

    [Fact]
    public void A_dependent_follows_its_anchor_and_the_anchor_is_placed_first_even_at_lower_priority()
    {
        var result = Plan(Problem([Host("n1"), Host("n2"), Host("n3")], [Vm("app", priority: 90), Vm("db", priority: 1), Vm("busy", vcpu: 8, node: "n3")],
            [With("app-with-db", "db", Score.Infinity, null, "app")]));
        Assert.Equal(result.To("db"), result.To("app"));
        Assert.Equal(["db", "app"], result.Decisions.Select(d => d.Vm));
        Assert.Contains("app follows db, rule app-with-db", result.Decision("app").Why);
    }

    [Fact]
    public void An_anchor_takes_its_followers_to_a_node_where_all_fit_else_it_runs_alone()
    {
        // n1 is emptier (balanced would pick it for db alone) but only n2 has room for both.
        var nodes = new[] { Host("n1", mem: 4096), Host("n2", mem: 16384) };
        var rule = With("app-with-db", "db", Score.Infinity, null, "app");
        var together = Plan(Problem(nodes, [Vm("db", mem: 2048), Vm("app", mem: 4096), Vm("x", mem: 8192, node: "n2")], [rule]));
        Assert.Equal(("n2", "n2"), (together.To("db"), together.To("app")));

        var alone = Plan(Problem(nodes, [Vm("db", mem: 2048), Vm("app", mem: 12288), Vm("x", mem: 8192, node: "n2")], [rule]));
        Assert.Equal("n1", alone.To("db"));
        Assert.Null(alone.To("app"));
        Assert.Equal("must run with db on n1 (rule app-with-db)", alone.ReasonsFor("app")["n2"]);
        Assert.Equal("memory needs 12288 MiB, 2048 free", alone.ReasonsFor("app")["n1"]);
    }

    [Fact]
    public void A_dependent_does_not_start_while_its_anchor_cannot_run()
    {
        var result = Plan(Problem([Host("n1"), Host("n2")], [Vm("db"), Vm("app")],
            [With("app-with-db", "db", Score.Infinity, null, "app"), new LocationRule("no-db", ["db"], Score.MinusInfinity, Attr("rack", AttributeOp.NotDefined))]));
        Assert.Empty(result.Decisions);
        Assert.Equal("must run with db (rule app-with-db), which is not running", result.ReasonsFor("app")["n1"]);
    }

    [Fact]
    public void A_directed_minus_infinity_makes_the_dependent_yield_whatever_its_priority()
    {
        var result = Plan(Problem([Host("only")], [Vm("batch", priority: 90), Vm("db", priority: 1)], [With("batch-not-with-db", "db", Score.MinusInfinity, null, "batch")]));
        Assert.Equal("only", result.To("db"));
        Assert.Equal("anti-affinity with db (rule batch-not-with-db)", result.ReasonsFor("batch")["only"]);
    }

    [Fact]
    public void A_finite_directed_score_is_a_preference_of_the_dependent_only()
    {
        var nodes = new[] { Host("big", vcpu: 64), Host("small", vcpu: 8) };
        var result = Plan(Problem(nodes, [Vm("cache", node: "small"), Vm("web")], [With("web-near-cache", "cache", 50, null, "web")]));
        Assert.Equal("small", result.To("web"));
        Assert.StartsWith("total 50 (colocation web-near-cache +50)", result.Decision("web").Why);
        // The anchor is not drawn to its dependent.
        var anchor = Plan(Problem(nodes, [Vm("cache"), Vm("web", node: "small")], [With("web-near-cache", "cache", 50, null, "web")]));
        Assert.Equal("big", anchor.To("cache"));
    }

    [Fact]
    public void Same_rack_by_attribute_means_any_node_of_the_anchors_rack()
    {
        var nodes = new[] { Host("a1", vcpu: 2, attrs: ("rack", "r1")), Host("a2", attrs: ("rack", "r1")), Host("b1", vcpu: 64, attrs: ("rack", "r2")) };
        var result = Plan(Problem(nodes, [Vm("db", vcpu: 2, node: "a1"), Vm("web")], [With("web-near-db", "db", Score.Infinity, "rack", "web")]));
        Assert.Equal("a2", result.To("web"));
        var full = Plan(Problem(nodes.Take(1).Append(nodes[2]), [Vm("db", vcpu: 2, node: "a1"), Vm("web")], [With("web-near-db", "db", Score.Infinity, "rack", "web")]));
        Assert.Equal("must run in the same rack as db (rack r1; rule web-near-db)", full.ReasonsFor("web")["b1"]);
    }

    [Fact]
    public void Different_racks_by_attribute_and_a_node_without_the_attribute_is_with_nobody()
    {
        var nodes = new[] { Host("a1", attrs: ("rack", "r1")), Host("a2", attrs: ("rack", "r1")), Host("b1", attrs: ("rack", "R2")), Host("loose", vcpu: 1) };
        var apart = new ColocationRule("db-racks", ["db-1", "db-2", "db-3", "db-4"], Score.MinusInfinity, NodeAttribute: "rack");
        var result = Plan(Problem(nodes, [Vm("db-1", priority: 4), Vm("db-2", priority: 3), Vm("db-3", priority: 2), Vm("db-4", priority: 1)], [apart]));
        var placed = new[] { "db-1", "db-2", "db-3" }.Select(v => result.To(v)).ToList();
        Assert.Contains("loose", placed); // no rack: conflicts with no one, but has room for one
        Assert.Contains("b1", placed);
        Assert.Single(placed, n => n is "a1" or "a2");
        var reasons = result.ReasonsFor("db-4");
        Assert.Matches("^anti-affinity with db-[123], also in rack r1 \\(rule db-racks\\)$", reasons["a1"]);
        Assert.Matches("^anti-affinity with db-[123], also in rack R2 \\(rule db-racks\\)$", reasons["b1"]);
        Assert.Equal("vcpu needs 1, 0 free", reasons["loose"]);
    }

    [Fact]
    public void A_spread_limit_allows_k_per_rack_and_names_the_ones_there()
    {
        var nodes = Enumerable.Range(0, 4).Select(i => Host($"n{i}", attrs: ("rack", i < 2 ? "r1" : "r2"))).ToList();
        var webs = Enumerable.Range(1, 5).Select(i => Vm($"web-{i}", priority: 10 - i)).ToList();
        var spread = new ColocationRule("web-spread", webs.Select(w => w.Name).ToList(), Score.MinusInfinity, NodeAttribute: "rack", AtMost: 2);
        var result = Plan(Problem(nodes, webs, [spread]));
        Assert.Equal(4, result.Decisions.Count);
        Assert.Equal(2, result.Decisions.Count(d => d.To is "n0" or "n1"));
        var reason = result.ReasonsFor("web-5")["n0"];
        Assert.Matches("^rule web-spread allows 2 per rack; rack r1 has web-[1-4], web-[1-4]$", reason);

        var perNode = new ColocationRule("two-per-node", webs.Select(w => w.Name).ToList(), Score.MinusInfinity, AtMost: 2);
        var packed = Plan(Problem(nodes.Take(2), webs, [perNode], policy: new PlacementPolicy(PlacementStrategy.Pack)));
        Assert.Equal([2, 2], packed.Decisions.GroupBy(d => d.To).Select(g => g.Count()));
    }

    [Fact]
    public void A_symmetric_infinity_by_attribute_keeps_every_member_in_one_rack()
    {
        var nodes = new[] { Host("a1", vcpu: 4, attrs: ("rack", "r1")), Host("a2", vcpu: 4, attrs: ("rack", "r1")), Host("b1", vcpu: 64, attrs: ("rack", "r2")) };
        var rule = new ColocationRule("same-rack", ["x", "y", "z"], Score.Infinity, NodeAttribute: "rack");
        var result = Plan(Problem(nodes, [Vm("x", vcpu: 4, node: "a1"), Vm("y", vcpu: 4), Vm("z", vcpu: 4)], [rule]));
        Assert.Equal("a2", result.To("y"));
        Assert.Equal("must run in the same rack as x (rack r1; rule same-rack)", result.ReasonsFor("z")["b1"]);
    }

    [Fact]
    public void With_n_plus_1_failover_targets_respect_racks_and_followers_fail_over_with_their_anchor()
    {
        var nodes = new[] { Host("a", attrs: ("rack", "r1")), Host("b", attrs: ("rack", "r2")), Host("c", attrs: ("rack", "r3")) };
        var apart = new ColocationRule("db-racks", ["db-1", "db-2"], Score.MinusInfinity, NodeAttribute: "rack");
        var result = Plan(Problem(nodes, [Vm("db-1", node: "a"), Vm("db-2", node: "b")], [apart], reserve: 1));
        Assert.True(result.Reservation.Holds);
        Assert.Equal(["c"], result.FailoverTargets["db-1"]);
        Assert.Equal(["c"], result.FailoverTargets["db-2"]); // one node fails at a time, so both may count on c
        Assert.False(Plan(Problem(nodes, [Vm("db-1", node: "a"), Vm("db-2", node: "b")], [apart], reserve: 2)).Reservation.Holds);

        var pair = Plan(Problem(nodes, [Vm("db", node: "a"), Vm("app", node: "a")], [With("app-with-db", "db", Score.Infinity, null, "app")], reserve: 1));
        Assert.Equal(pair.FailoverTargets["db"], pair.FailoverTargets["app"]);
        var failed = Plan(Problem(nodes, [Vm("db", node: "a"), Vm("app", node: "a")], [With("app-with-db", "db", Score.Infinity, null, "app")],
            action: new PlanAction.Fail(["a"]), reserve: 1));
        Assert.Equal(failed.To("db"), failed.To("app"));
        Assert.Equal(["db", "app"], failed.Decisions.Select(d => d.Vm));
    }

    [Fact]
    public void A_follower_of_an_anchor_that_is_not_ha_needs_no_failover_room()
    {
        // If db's node fails db is not restarted, so app could not be either: no room is held for it, and it still starts.
        var nodes = new[] { Host("n1"), Host("n2") };
        var result = Plan(Problem(nodes, [Vm("db", ha: false), Vm("app")], [With("app-with-db", "db", Score.Infinity, null, "app")], reserve: 1));
        Assert.Equal(result.To("db"), result.To("app"));
        Assert.Empty(result.FailoverTargets);
        Assert.True(result.Reservation.Holds);
    }

    [Fact]
    public void An_evacuated_anchor_takes_its_node_followers_and_its_rack_followers_come_after_it()
    {
        var nodes = new[] { Host("a1", attrs: ("rack", "r1")), Host("a2", vcpu: 1, attrs: ("rack", "r1")), Host("b1", attrs: ("rack", "r2")) };
        var vms = new[] { Vm("db", node: "a1"), Vm("app", node: "a1"), Vm("web", node: "a2") };
        var rules = new[] { With("app-with-db", "db", Score.Infinity, null, "app"), With("web-near-db", "db", Score.Infinity, "rack", "web") };
        var result = Plan(Problem(nodes, vms, rules, action: new PlanAction.Evacuate(["a1"])));
        Assert.Equal(("b1", "b1", "b1"), (result.To("db"), result.To("app"), result.To("web")));
        Assert.StartsWith("follows db, which went to b1 (rule web-near-db)", result.Decision("web").Why);
    }
}
