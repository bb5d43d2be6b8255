using Virt.Scheduler;
using static Virt.Tests.Scheduler.Scenarios;

namespace Virt.Tests.Scheduler;

/// <summary>Guards the guard: hand-made plans that break each new rule must be rejected by the independent checker.</summary>
public sealed class PlanCheckerTests
{
    private static string Rejects(PlacementProblem problem, params PlanDecision[] decisions)
    {
        var plan = new PlanResult(decisions, [], new ReservationReport(problem.ReserveFailures, problem.ReserveFailures == 0, ""), 0, new Dictionary<string, IReadOnlyList<string>>());
        return Assert.Throws<InvalidOperationException>(() => new PlanChecker(problem, plan).CheckAll()).Message;
    }

    private static PlanDecision Start(string vm, string to, int step, params int[] after) => new(vm, DecisionKind.Start, null, to, step, "", after);

    private static readonly NodeSpec[] Racks = [Host("a1", attrs: ("rack", "r1")), Host("a2", attrs: ("rack", "r1")), Host("b1", attrs: ("rack", "r2"))];

    [Fact]
    public void A_follower_away_from_its_anchor()
    {
        var p = Problem(Racks, [Vm("db", node: "a1"), Vm("web")], [new ColocationRule("web-near-db", ["web"], Score.Infinity, With: "db", NodeAttribute: "rack")]);
        Assert.Contains("follows db (web-near-db) but db is on a1", Rejects(p, Start("web", "b1", 1)));
        new PlanChecker(p, new PlanResult([Start("web", "a2", 1)], [], new ReservationReport(0, true, ""), 0, new Dictionary<string, IReadOnlyList<string>>())).CheckAll();
    }

    [Fact]
    public void A_spread_limit_exceeded_in_a_rack()
    {
        var p = Problem(Racks, [Vm("w1", node: "a1"), Vm("w2", node: "a2"), Vm("w3")], [new ColocationRule("spread", ["w1", "w2", "w3"], Score.MinusInfinity, NodeAttribute: "rack", AtMost: 2)]);
        Assert.Contains("3 members of spread in r1 (at most 2)", Rejects(p, Start("w3", "a1", 1)));
    }

    [Fact]
    public void A_directed_anti_affinity_broken_from_either_side()
    {
        var rule = new ColocationRule("not-with-db", ["batch"], Score.MinusInfinity, With: "db");
        Assert.Contains("shares a1 with db", Rejects(Problem(Racks, [Vm("db", node: "a1"), Vm("batch")], [rule]), Start("batch", "a1", 1)));
        Assert.Contains("shares a1 with batch", Rejects(Problem(Racks, [Vm("db"), Vm("batch", node: "a1")], [rule]), Start("db", "a1", 1)));
    }

    [Fact]
    public void A_negative_total_where_another_node_was_fine()
    {
        var p = Problem(Racks, [Vm("a", node: "a1"), Vm("b")], [new ColocationRule("dislike", ["a", "b"], -10)]);
        Assert.Contains("step 1: b goes to a1 where its total -10 < 0", Rejects(p, Start("b", "a1", 1)));
    }

    [Fact]
    public void A_start_before_what_it_waits_for_or_without_a_mandatory_first()
    {
        var order = new OrderRule("app-after-db", ["app"], ["db"]);
        var p = Problem(Racks, [Vm("db"), Vm("app")], [order]);
        Assert.Contains("app starts before db (step 2)", Rejects(p, Start("app", "a1", 1), Start("db", "a2", 2)));
        Assert.Contains("app starts before db (step 1) although app-after-db orders it after", Rejects(p, Start("db", "a2", 1), Start("app", "a1", 2)));
        Assert.Contains("db, which app-after-db makes it wait for (mandatory), does not run", Rejects(p, Start("app", "a1", 1)));
    }

    [Fact]
    public void A_repair_move_for_less_than_the_stickiness_and_stops_nothing_allowed()
    {
        var p = Problem(Racks, [Vm("db", node: "a1")], [new LocationRule("prefer-r2", ["db"], 30, Attr("rack", AttributeOp.Eq, "r2"))], new PlanAction.Repair(),
            new PlacementPolicy(Stickiness: 50));
        Assert.Contains("without a violation and for a gain of 30 (stickiness 50)", Rejects(p, new PlanDecision("db", DecisionKind.Migrate, "a1", "b1", 1, "")));
        Assert.Contains("is stopped, but neither preemption nor unplaceable stop allows it", Rejects(p, new PlanDecision("db", DecisionKind.Stop, "a1", null, 1, "")));
    }

    [Fact]
    public void A_vm_placed_against_its_own_failure_threshold()
    {
        var p = Problem(Racks, [Vm("flaky", failures: new() { ["a1"] = new(1, 10) }) with { MigrationThreshold = 1 }]);
        Assert.Contains("placed despite its failure map", Rejects(p, Start("flaky", "a1", 1)));
    }
}
