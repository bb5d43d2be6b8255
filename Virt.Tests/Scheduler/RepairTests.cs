using Virt.Scheduler;
using static Virt.Tests.Scheduler.Scenarios;

namespace Virt.Tests.Scheduler;

/// <summary>The repair action: running VMs leave rule violations, then move toward preferences that beat stickiness.</summary>
public sealed class RepairTests
{
    private static readonly PlanAction Repair = new PlanAction.Repair();

    [Fact]
    public void A_rule_added_while_a_vm_runs_moves_it_and_says_which()
    {
        var rule = new LocationRule("not-on-n1", ["web"], Score.MinusInfinity, Attr("rack", AttributeOp.Eq, "r1"));
        var result = Plan(Problem([Host("n1", attrs: ("rack", "r1")), Host("n2")], [Vm("web", node: "n1")], [rule], Repair));
        var move = Assert.Single(result.Decisions);
        Assert.Equal(("web", DecisionKind.Migrate, "n1", "n2"), (move.Vm, move.Kind, move.From, move.To));
        Assert.StartsWith("repair: on n1 rule not-on-n1 (-INFINITY); load", move.Why);
    }

    [Fact]
    public void Of_two_vms_that_must_stay_apart_the_lower_priority_one_moves()
    {
        var apart = new ColocationRule("db-apart", ["db-1", "db-2"], Score.MinusInfinity);
        var result = Plan(Problem([Host("n1"), Host("n2")], [Vm("db-1", priority: 1, node: "n1"), Vm("db-2", priority: 9, node: "n1")], [apart], Repair));
        Assert.Equal(("db-1", "n2"), (result.Decisions.Single().Vm, result.Decisions.Single().To));

        var directed = new ColocationRule("batch-not-with-db", ["batch"], Score.MinusInfinity, With: "db");
        var yields = Plan(Problem([Host("n1"), Host("n2")], [Vm("db", priority: 1, node: "n1"), Vm("batch", priority: 9, node: "n1")], [directed], Repair));
        Assert.Equal("batch", yields.Decisions.Single().Vm); // the dependent yields, whatever the priorities
    }

    [Fact]
    public void A_follower_joins_its_anchor_and_a_split_group_gathers_at_its_highest_priority_member()
    {
        var follow = new ColocationRule("app-with-db", ["app"], Score.Infinity, With: "db");
        var result = Plan(Problem([Host("n1"), Host("n2")], [Vm("db", node: "n1"), Vm("app", node: "n2")], [follow], Repair));
        Assert.Equal(("app", "n2", "n1"), (result.Decisions.Single().Vm, result.Decisions.Single().From, result.Decisions.Single().To));

        var group = new ColocationRule("stack", ["a", "b", "c"], Score.Infinity);
        var gathered = Plan(Problem([Host("n1"), Host("n2"), Host("n3")], [Vm("a", node: "n1"), Vm("b", priority: 5, node: "n2"), Vm("c", node: "n3")], [group], Repair,
            policy: new PlacementPolicy(MaxMigrationsPerNode: 4)));
        Assert.All(gathered.Decisions, d => Assert.Equal("n2", d.To));
        Assert.Equal(["a", "c"], gathered.Decisions.Select(d => d.Vm).Order());
    }

    [Fact]
    public void A_preference_moves_a_running_vm_only_when_the_gain_beats_stickiness()
    {
        var nodes = new[] { Host("plain"), Host("fast", attrs: ("ssd", "yes")) };
        var prefer = new LocationRule("prefer-ssd", ["db"], 50, Attr("ssd", AttributeOp.Defined));
        Assert.Empty(Plan(Problem(nodes, [Vm("db", node: "plain")], [prefer], Repair, new PlacementPolicy(Stickiness: 100))).Decisions);
        var moved = Plan(Problem(nodes, [Vm("db", node: "plain")], [prefer], Repair, new PlacementPolicy(Stickiness: 20))).Decisions.Single();
        Assert.Equal(("plain", "fast"), (moved.From, moved.To));
        Assert.StartsWith("repair: total 50 (location prefer-ssd +50) on fast against total 0 on plain; gain 50 > stickiness 20", moved.Why);
    }

    [Fact]
    public void A_vm_that_can_go_nowhere_keeps_running_explained_or_with_unplaceable_stop_is_stopped()
    {
        var rule = new LocationRule("retired", ["old"], Score.MinusInfinity, Attr("rack", AttributeOp.Defined));
        var nodes = new[] { Host("n1", attrs: ("rack", "r1")), Host("n2", attrs: ("rack", "r2")) };
        var kept = Plan(Problem(nodes, [Vm("old", node: "n1")], [rule], Repair));
        Assert.Empty(kept.Decisions);
        Assert.Equal("runs here, but rule retired (-INFINITY)", kept.ReasonsFor("old")["n1"]);
        Assert.Equal("rule retired (-INFINITY)", kept.ReasonsFor("old")["n2"]);

        var stopped = Plan(Problem(nodes, [Vm("old", node: "n1")], [rule], new PlanAction.Repair(Unplaceable.Stop)));
        var stop = Assert.Single(stopped.Decisions);
        Assert.Equal((DecisionKind.Stop, "n1"), (stop.Kind, stop.From));
        Assert.EndsWith("can move nowhere (unplaceable stop)", stop.Why);
    }

    [Fact]
    public void Repair_stays_within_the_migration_limits_and_explains_what_it_left()
    {
        var rule = new LocationRule("leave-n1", ["a", "b"], Score.MinusInfinity, Attr("rack", AttributeOp.Eq, "r1"));
        var result = Plan(Problem([Host("n1", attrs: ("rack", "r1")), Host("n2")], [Vm("a", priority: 2, node: "n1"), Vm("b", priority: 1, node: "n1")], [rule], Repair,
            new PlacementPolicy(MaxMigrations: 1)));
        Assert.Equal("a", result.Decisions.Single().Vm);
        Assert.Equal("runs here, but rule leave-n1 (-INFINITY); not moved: the plan reached max_migrations 1", result.ReasonsFor("b")["n1"]);
    }

    [Fact]
    public void A_negative_total_made_by_a_new_neighbour_is_repaired_by_the_lower_priority_vm()
    {
        var dislike = new ColocationRule("dislike", ["a", "b"], -20);
        var result = Plan(Problem([Host("n1"), Host("n2")], [Vm("a", priority: 5, node: "n1"), Vm("b", priority: 1, node: "n1")], [dislike], Repair));
        var move = result.Decisions.Single();
        Assert.Equal(("b", "n2"), (move.Vm, move.To));
        Assert.StartsWith("repair: on n1 total -20 (colocation dislike -20)", move.Why);
    }
}
