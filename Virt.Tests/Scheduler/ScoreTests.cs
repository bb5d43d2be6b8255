using Virt.Scheduler;
using static Virt.Tests.Scheduler.Scenarios;

namespace Virt.Tests.Scheduler;

/// <summary>Score sums: negative-score-forbids, the roll-back of colocation scores, and the sums in explanations.</summary>
public sealed class ScoreTests
{
    private static readonly LocationRule PreferSsd = new("prefer-ssd", ["db-2"], 100, Attr("ssd", AttributeOp.Defined));
    private static readonly ColocationRule DbApart = new("db-apart", ["db-1", "db-2"], -101);

    [Fact]
    public void A_negative_total_forbids_the_node_and_the_reason_names_every_term()
    {
        // node-a would be fine (total 0) but is full: db-2 may not go to node-b, where its total is -1.
        var nodes = new[] { Host("node-a", mem: 1024), Host("node-b", attrs: ("ssd", "yes")) };
        var vms = new[] { Vm("filler", mem: 1024, node: "node-a"), Vm("db-1", node: "node-b"), Vm("db-2") };
        var result = Plan(Problem(nodes, vms, [PreferSsd, DbApart]));
        Assert.Empty(result.Decisions);
        Assert.Equal("total -1 (location prefer-ssd +100, colocation db-apart -101)", result.ReasonsFor("db-2")["node-b"]);
        Assert.Equal("memory needs 1024 MiB, 0 free", result.ReasonsFor("db-2")["node-a"]);
    }

    [Fact]
    public void Without_negative_score_forbids_a_negative_total_is_only_the_least_bad_choice()
    {
        var nodes = new[] { Host("node-a", mem: 1024), Host("node-b", attrs: ("ssd", "yes")) };
        var vms = new[] { Vm("filler", mem: 1024, node: "node-a"), Vm("db-1", node: "node-b"), Vm("db-2") };
        var result = Plan(Problem(nodes, vms, [PreferSsd, DbApart], policy: new PlacementPolicy(NegativeScoreForbids: false)));
        Assert.Equal("node-b", result.To("db-2"));
        Assert.StartsWith("total -1 (location prefer-ssd +100, colocation db-apart -101)", result.Decision("db-2").Why);
    }

    [Fact]
    public void A_negative_location_score_alone_forbids()
    {
        var result = Plan(Problem([Host("old", attrs: ("gen", "8")), Host("new", vcpu: 1, attrs: ("gen", "12"))], [Vm("big", vcpu: 2)],
            [new LocationRule("avoid-old", ["big"], -10, Attr("gen", AttributeOp.Lt, "10"))]));
        Assert.Equal("total -10 (location avoid-old -10)", result.ReasonsFor("big")["old"]);
    }

    [Fact]
    public void Finite_colocation_scores_that_would_leave_no_node_at_all_are_rolled_back_as_in_pacemaker()
    {
        // One node: the soft anti-affinity cannot be met anywhere, so it does not forbid.
        var result = Plan(Problem([Host("only")], [Vm("a", node: "only"), Vm("b")], [new ColocationRule("spread", ["a", "b"], -50)]));
        Assert.Equal("only", result.To("b"));
        // With a second node it does, there.
        var two = Plan(Problem([Host("only"), Host("other", vcpu: 64)], [Vm("a", node: "only"), Vm("b")], [new ColocationRule("spread", ["a", "b"], -50)]));
        Assert.Equal("other", two.To("b"));
    }

    [Fact]
    public void The_decision_names_its_deciding_sum()
    {
        var nodes = new[] { Host("n1", attrs: ("ssd", "yes")), Host("n2"), Host("n3", attrs: ("ssd", "yes")) };
        var rules = new PlacementRule[]
        {
            new LocationRule("prefer-ssd", ["web"], 100, Attr("ssd", AttributeOp.Defined)),
            new ColocationRule("near-cache", ["web"], 50, With: "cache"),
        };
        var result = Plan(Problem(nodes, [Vm("cache", node: "n3"), Vm("web")], rules));
        Assert.Equal("n3", result.To("web"));
        Assert.StartsWith("total 150 (location prefer-ssd +100, colocation near-cache +50); load", result.Decision("web").Why);
    }

    [Fact]
    public void Sums_count_the_members_of_a_unit_placed_together()
    {
        // a and b must share a node and dislike each other more than anything pulls them: their totals are negative
        // everywhere, so the scores roll back and they still run, with the sum shown.
        var rules = new PlacementRule[] { new ColocationRule("pair", ["a", "b"], Score.Infinity), new ColocationRule("dislike", ["a", "b"], -30) };
        var result = Plan(Problem([Host("n1"), Host("n2")], [Vm("a"), Vm("b")], rules));
        Assert.Equal(result.To("a"), result.To("b"));
        Assert.StartsWith("total -60 (colocation dislike -30, colocation dislike -30)", result.Decision("a").Why);
    }
}
