using Virt.Scheduler;
using static Virt.Tests.Scheduler.Scenarios;

namespace Virt.Tests.Scheduler;

public sealed class PlacementEngineTests
{
    [Fact]
    public void Capacity_is_never_exceeded_and_the_reason_names_dimension_need_and_free()
    {
        var result = Plan(Problem(
            [Host("n1", mem: 16384), Host("n2", mem: 8192)],
            [Vm("a", mem: 10240, priority: 2), Vm("b", mem: 8192, priority: 1), Vm("huge", mem: 20000)]));
        Assert.Equal("n1", result.To("a"));
        Assert.Equal("n2", result.To("b"));
        var reasons = result.ReasonsFor("huge");
        Assert.Equal("memory needs 20000 MiB, 6144 free", reasons["n1"]);
        Assert.Equal("memory needs 20000 MiB, 0 free", reasons["n2"]);
    }

    [Fact]
    public void Overcommit_multiplies_capacity_per_dimension()
    {
        var vms = Enumerable.Range(0, 8).Select(i => Vm($"v{i}", vcpu: 4, mem: 1024)).ToList();
        var without = Plan(Problem([Host("n1", vcpu: 8)], vms));
        Assert.Equal(2, without.Decisions.Count);
        Assert.Equal("vcpu needs 4, 0 free", without.ReasonsFor("v7")["n1"]);

        var with = Plan(Problem([Host("n1", vcpu: 8)], vms, overcommit: new() { ["vcpu"] = 4.0 }));
        Assert.Equal(8, with.Decisions.Count);
    }

    [Fact]
    public void A_node_without_a_dimension_cannot_host_a_vm_that_needs_it()
    {
        var gpu = new NodeSpec("gpu-node", new Dictionary<string, double> { ["vcpu"] = 16, ["memory_mib"] = 65536, ["gpu"] = 2 }, new Dictionary<string, string>());
        var vm = new VmSpec("ml", new Dictionary<string, double> { ["vcpu"] = 2, ["gpu"] = 1 });
        var result = Plan(Problem([Host("plain"), gpu], [vm]));
        Assert.Equal("gpu-node", result.To("ml"));

        var none = Plan(Problem([Host("plain"), gpu], [vm, vm with { Name = "ml2" }, vm with { Name = "ml3" }]));
        Assert.Equal("gpu needs 1, 0 free", none.ReasonsFor("ml3")["plain"]);
    }

    [Fact]
    public void Location_minus_infinity_forbids_and_infinity_requires_with_readable_reasons()
    {
        var nodes = new[] { Host("n1", attrs: ("usb", "1")), Host("n2"), Host("n3", attrs: ("rack", "r9")) };
        var pin = new LocationRule("usb-pin", ["signer"], Score.Infinity, Attr("usb", AttributeOp.Defined));
        var never = new LocationRule("not-r9", ["web"], Score.MinusInfinity, Attr("rack", AttributeOp.Eq, "r9"));
        var result = Plan(Problem(nodes, [Vm("signer"), Vm("web", priority: 5), Vm("web2", priority: 4), Vm("web3", priority: 3)], [pin, never]));
        Assert.Equal("n1", result.To("signer"));
        Assert.NotEqual("n3", result.To("web"));

        var blocked = Plan(Problem([Host("n2"), Host("n3", attrs: ("rack", "r9"))], [Vm("signer"), Vm("web")], [pin, never]));
        Assert.Equal("rule usb-pin (INFINITY) needs usb defined", blocked.ReasonsFor("signer")["n2"]);
        Assert.Equal("n2", blocked.To("web"));
        var webOnly = Plan(Problem([Host("n3", attrs: ("rack", "r9"))], [Vm("web")], [never]));
        Assert.Equal("rule not-r9 (-INFINITY)", webOnly.ReasonsFor("web")["n3"]);
    }

    [Fact]
    public void A_finite_location_score_is_a_preference_that_beats_load_balance()
    {
        var near = new LocationRule("near", ["web-1"], 50, new AllOf([Attr("rack", AttributeOp.Eq, "r1"), Attr("ssd", AttributeOp.Defined)]));
        var result = Plan(Problem(
            [Host("busy", attrs: [("rack", "r1"), ("ssd", "yes")]), Host("idle", attrs: ("rack", "r1"))],
            [Vm("web-1"), Vm("already", vcpu: 8, mem: 32768, node: "busy")],
            [near]));
        Assert.Equal("busy", result.To("web-1"));
        Assert.StartsWith("total 50 (location near +50); load", result.Decisions.Single().Why);
    }

    [Theory]
    [InlineData(AttributeOp.Eq, "r1", true)]
    [InlineData(AttributeOp.Ne, "r1", false)]
    [InlineData(AttributeOp.Ne, "r2", true)]
    public void Equality_operators(AttributeOp op, string value, bool expected) =>
        Assert.Equal(expected, Attr("rack", op, value).Holds(new Dictionary<string, string> { ["rack"] = "r1" }));

    [Fact]
    public void Ordering_membership_definedness_and_boolean_operators()
    {
        var attrs = new Dictionary<string, string> { ["gen"] = "9", ["rack"] = "r2" };
        Assert.True(Attr("gen", AttributeOp.Gt, "10").Holds(attrs) is false); // numeric, not text ("9" > "10" as text)
        Assert.True(Attr("gen", AttributeOp.Lt, "10").Holds(attrs));
        Assert.True(Attr("rack", AttributeOp.In, null, "r1", "r2").Holds(attrs));
        Assert.False(Attr("rack", AttributeOp.In, null, "r3").Holds(attrs));
        Assert.True(Attr("usb", AttributeOp.NotDefined).Holds(attrs));
        Assert.False(Attr("usb", AttributeOp.Eq, "1").Holds(attrs));
        Assert.True(Attr("usb", AttributeOp.Ne, "1").Holds(attrs));
        Assert.True(new AnyOf([Attr("usb", AttributeOp.Defined), Attr("rack", AttributeOp.Eq, "r2")]).Holds(attrs));
        Assert.False(new AllOf([Attr("usb", AttributeOp.Defined), Attr("rack", AttributeOp.Eq, "r2")]).Holds(attrs));
    }

    [Fact]
    public void Anti_affinity_keeps_the_set_apart_and_explains()
    {
        var apart = new ColocationRule("db-apart", ["db-1", "db-2", "db-3"], Score.MinusInfinity);
        var result = Plan(Problem([Host("n1"), Host("n2")], [Vm("db-1", priority: 3), Vm("db-2", priority: 2), Vm("db-3", priority: 1)], [apart]));
        Assert.NotEqual(result.To("db-1"), result.To("db-2"));
        var reasons = result.ReasonsFor("db-3");
        Assert.Equal($"anti-affinity with db-1 (rule db-apart)", reasons[result.To("db-1")!]);
        Assert.Equal($"anti-affinity with db-2 (rule db-apart)", reasons[result.To("db-2")!]);
    }

    [Fact]
    public void Infinity_colocation_puts_the_whole_set_on_one_node_or_none_of_it()
    {
        var together = new ColocationRule("app-stack", ["app", "cache", "db"], Score.Infinity);
        var ok = Plan(Problem([Host("n1", mem: 8192), Host("n2", mem: 8192)], [Vm("app", mem: 2048), Vm("cache", mem: 2048), Vm("db", mem: 2048)], [together]));
        Assert.Single(ok.Decisions.Select(d => d.To).Distinct());
        Assert.Equal(3, ok.Decisions.Count);

        var tooBig = Plan(Problem([Host("n1", mem: 8192), Host("n2", mem: 8192)], [Vm("app", mem: 4096), Vm("cache", mem: 4096), Vm("db", mem: 4096)], [together]));
        Assert.Empty(tooBig.Decisions);
        Assert.Equal(["app", "cache", "db"], tooBig.Unplaced.Select(u => u.Vm));
        Assert.Equal("memory needs 12288 MiB, 8192 free", tooBig.ReasonsFor("db")["n1"]);
    }

    [Fact]
    public void A_pending_member_of_an_infinity_set_follows_the_running_one()
    {
        var together = new ColocationRule("pair", ["a", "b"], Score.Infinity);
        var result = Plan(Problem([Host("n1"), Host("n2"), Host("n3")], [Vm("a", node: "n3"), Vm("b")], [together]));
        Assert.Equal("n3", result.To("b"));

        var full = Plan(Problem([Host("n1"), Host("n2"), Host("n3", mem: 2048)], [Vm("a", mem: 2048, node: "n3"), Vm("b")], [together]));
        Assert.Equal("must run with a on n3 (INFINITY colocation)", full.ReasonsFor("b")["n1"]);
        Assert.Equal("memory needs 1024 MiB, 0 free", full.ReasonsFor("b")["n3"]);
    }

    [Fact]
    public void A_positive_finite_colocation_score_prefers_company()
    {
        var friends = new ColocationRule("friends", ["a", "b"], 100);
        var result = Plan(Problem([Host("n1"), Host("n2")], [Vm("a", node: "n2"), Vm("b")], [friends]));
        Assert.Equal("n2", result.To("b")); // despite n1 being empty
        // Without a rule b would join a on the big node (lower load after); the negative score sends it away.
        var nodes = new[] { Host("big", vcpu: 1000), Host("small", vcpu: 8) };
        Assert.Equal("big", Plan(Problem(nodes, [Vm("a", node: "big"), Vm("b")])).To("b"));
        var enemies = new ColocationRule("enemies", ["a", "b"], -100);
        Assert.Equal("small", Plan(Problem(nodes, [Vm("a", node: "big"), Vm("b")], [enemies])).To("b"));
    }

    [Fact]
    public void Higher_priority_goes_first_when_room_is_short()
    {
        var result = Plan(Problem([Host("n1", mem: 4096)], [Vm("low", mem: 4096, priority: 1), Vm("high", mem: 4096, priority: 9)]));
        Assert.Equal("n1", result.To("high"));
        Assert.Equal("memory needs 4096 MiB, 0 free", result.ReasonsFor("low")["n1"]);
    }

    [Fact]
    public void Preemption_stops_lower_priority_vms_only_when_allowed()
    {
        var nodes = new[] { Host("n1", mem: 4096) };
        var vms = new[] { Vm("batch", mem: 4096, priority: 1, node: "n1"), Vm("payments", mem: 4096, priority: 90) };
        var polite = Plan(Problem(nodes, vms));
        Assert.Empty(polite.Decisions);

        var result = Plan(Problem(nodes, vms, policy: new PlacementPolicy(Preempt: true)));
        Assert.Equal(2, result.Decisions.Count);
        var stop = result.Decisions[0];
        Assert.Equal(("batch", DecisionKind.Stop, "n1", 1), (stop.Vm, stop.Kind, stop.From, stop.Step));
        Assert.Contains("preempted by payments (priority 90 > 1)", stop.Why);
        Assert.Equal(("payments", DecisionKind.Start, "n1", 2), (result.Decisions[1].Vm, result.Decisions[1].Kind, result.Decisions[1].To, result.Decisions[1].Step));
        Assert.StartsWith("preempted by payments (priority 90 > 1)", result.ReasonsFor("batch")["n1"]);
    }

    [Fact]
    public void A_preempted_vm_moves_elsewhere_before_the_preemptor_starts_when_it_can()
    {
        var nodes = new[] { Host("n1", mem: 4096, attrs: ("fast", "1")), Host("n2", mem: 4096) };
        var pin = new LocationRule("fast-only", ["payments"], Score.Infinity, Attr("fast", AttributeOp.Defined));
        var result = Plan(Problem(nodes, [Vm("batch", mem: 4096, priority: 1, node: "n1"), Vm("payments", mem: 4096, priority: 90)], [pin],
            policy: new PlacementPolicy(Preempt: true)));
        Assert.Equal(("batch", DecisionKind.Migrate, "n1", "n2", 1), (result.Decisions[0].Vm, result.Decisions[0].Kind, result.Decisions[0].From, result.Decisions[0].To, result.Decisions[0].Step));
        Assert.Equal(("payments", "n1", 2), (result.Decisions[1].Vm, result.Decisions[1].To, result.Decisions[1].Step));
        Assert.Empty(result.Unplaced);
    }

    [Fact]
    public void The_failure_map_avoids_a_node_until_the_failures_time_out()
    {
        var recent = new Dictionary<string, FailureHistory> { ["n1"] = new(3, 30) };
        var result = Plan(Problem([Host("n1", vcpu: 64)], [Vm("flaky", failures: recent)]));
        Assert.Equal("failed here 3 times (threshold 3), last 30 s ago; avoided for 570 s more", result.ReasonsFor("flaky")["n1"]);

        var old = new Dictionary<string, FailureHistory> { ["n1"] = new(3, 601) };
        Assert.Equal("n1", Plan(Problem([Host("n1")], [Vm("flaky", failures: old)])).To("flaky"));
        var few = new Dictionary<string, FailureHistory> { ["n1"] = new(2, 1) };
        Assert.Equal("n1", Plan(Problem([Host("n1")], [Vm("flaky", failures: few)])).To("flaky"));
    }

    [Fact]
    public void A_vms_own_migration_threshold_and_failure_timeout_override_the_policys()
    {
        var once = new Dictionary<string, FailureHistory> { ["n1"] = new(1, 100) };
        var policy = new PlacementPolicy(MigrationThreshold: 3, FailureTimeoutSeconds: 600);
        Assert.Equal("n1", Plan(Problem([Host("n1")], [Vm("flaky", failures: once)], policy: policy)).To("flaky"));
        var strict = Plan(Problem([Host("n1")], [Vm("flaky", failures: once) with { MigrationThreshold = 1 }], policy: policy));
        Assert.Equal("failed here 1 times (threshold 1), last 100 s ago; avoided for 500 s more", strict.ReasonsFor("flaky")["n1"]);
        var forgiving = Plan(Problem([Host("n1")], [Vm("flaky", failures: once) with { MigrationThreshold = 1, FailureTimeoutSeconds = 60 }], policy: policy));
        Assert.Equal("n1", forgiving.To("flaky"));
    }

    [Fact]
    public void N_plus_1_keeps_room_to_restart_every_ha_vm_and_says_so()
    {
        var nodes = new[] { Host("n1", mem: 16384), Host("n2", mem: 16384) };
        var vms = new[] { Vm("a", mem: 10240, priority: 2), Vm("b", mem: 10240, priority: 1) };
        var without = Plan(Problem(nodes, vms, reserve: 0));
        Assert.Equal(2, without.Decisions.Count);

        var result = Plan(Problem(nodes, vms, reserve: 1));
        Assert.Single(result.Decisions);
        Assert.True(result.Reservation.Holds);
        Assert.Equal(1, result.Reservation.Failures);
        var reasons = result.ReasonsFor("b");
        Assert.Contains("held for failover (N+1)", reasons[result.To("a") == "n1" ? "n2" : "n1"]);
        Assert.Equal([result.To("a") == "n1" ? "n2" : "n1"], result.FailoverTargets["a"]);
    }

    [Fact]
    public void A_non_ha_vm_needs_no_failover_target_but_respects_held_room()
    {
        var nodes = new[] { Host("n1", mem: 16384), Host("n2", mem: 16384) };
        var result = Plan(Problem(nodes,
            [Vm("a", mem: 10240, priority: 3), Vm("s1", mem: 6144, ha: false, priority: 2), Vm("s2", mem: 6144, ha: false, priority: 1), Vm("s3", mem: 1024, ha: false)],
            reserve: 1));
        var aNode = result.To("a");
        var other = aNode == "n1" ? "n2" : "n1";
        Assert.Equal([other], result.FailoverTargets["a"]);
        Assert.False(result.FailoverTargets.ContainsKey("s1"));
        Assert.Equal(new[] { aNode, other }.Order(), new[] { result.To("s1"), result.To("s2") }.Order()); // 6144 fits beside the 10240 held
        Assert.Equal("memory needs 1024 MiB, 10240 free but 10240 of it is held for failover (N+1)", result.ReasonsFor("s3")[other]);
        Assert.Equal("memory needs 1024 MiB, 0 free", result.ReasonsFor("s3")[aNode!]);
    }

    [Fact]
    public void N_plus_2_needs_two_targets_per_vm_and_reports_when_it_cannot_hold()
    {
        var three = new[] { Host("n1"), Host("n2"), Host("n3") };
        var result = Plan(Problem(three, [Vm("a"), Vm("b")], reserve: 2));
        Assert.True(result.Reservation.Holds);
        Assert.All(result.FailoverTargets.Values, t => Assert.Equal(2, t.Distinct().Count()));

        var existing = Plan(Problem([Host("n1"), Host("n2")], [Vm("a", node: "n1")], reserve: 2));
        Assert.False(existing.Reservation.Holds);
        Assert.Contains("a on n1", existing.Reservation.Detail);
        Assert.Contains("only 2 node(s) are up", existing.Reservation.Detail);
    }

    [Fact]
    public void Balanced_spreads_and_pack_fills_one_node_first()
    {
        var nodes = new[] { Host("n1"), Host("n2") };
        var vms = Enumerable.Range(0, 4).Select(i => Vm($"v{i}", vcpu: 2, mem: 4096)).ToList();
        var balanced = Plan(Problem(nodes, vms));
        Assert.Equal(2, balanced.Decisions.Count(d => d.To == "n1"));
        var pack = Plan(Problem(nodes, vms, policy: new PlacementPolicy(PlacementStrategy.Pack)));
        Assert.Equal(4, pack.Decisions.Count(d => d.To == "n1"));
    }

    [Fact]
    public void Nodes_that_are_not_up_take_nothing_and_say_why()
    {
        var result = Plan(Problem([Host("d", state: NodeState.Draining), Host("m", state: NodeState.Maintenance), Host("x", state: NodeState.Down)], [Vm("v")]));
        var reasons = result.ReasonsFor("v");
        Assert.Equal("draining", reasons["d"]);
        Assert.Equal("maintenance", reasons["m"]);
        Assert.Equal("down", reasons["x"]);
    }

    [Fact]
    public void Evacuate_moves_everything_off_in_fitting_steps_and_explains_what_stays()
    {
        var nodes = new[] { Host("n1", mem: 16384), Host("n2", mem: 8192), Host("n3", mem: 8192) };
        var vms = new[]
        {
            Vm("a", mem: 4096, priority: 3, node: "n1"), Vm("b", mem: 4096, priority: 2, node: "n1"),
            Vm("c", mem: 4096, priority: 1, node: "n1"), Vm("huge", mem: 12288, node: "n1"),
        };
        var result = Plan(Problem(nodes, vms, action: new PlanAction.Evacuate(["n1"])));
        Assert.Equal(["a", "b", "c"], result.Decisions.Select(d => d.Vm));
        Assert.All(result.Decisions, d => Assert.Equal((DecisionKind.Migrate, "n1"), (d.Kind, d.From)));
        Assert.Equal([1, 2, 3], result.Decisions.Select(d => d.Step));
        Assert.StartsWith("evacuating n1", result.Decisions[0].Why);
        var stays = result.ReasonsFor("huge");
        Assert.Equal("being evacuated", stays["n1"]);
        Assert.StartsWith("memory needs 12288 MiB", stays["n2"]);
    }

    [Fact]
    public void Fail_restarts_ha_vms_by_priority_and_reports_the_rest()
    {
        var nodes = new[] { Host("n1"), Host("n2", mem: 4096) };
        var vms = new[]
        {
            Vm("low", mem: 4096, priority: 1, node: "n1"), Vm("high", mem: 4096, priority: 9, node: "n1"),
            Vm("scratch", ha: false, node: "n1"), Vm("bystander", mem: 0, node: "n2"),
        };
        var result = Plan(Problem(nodes, vms, action: new PlanAction.Fail(["n1"])));
        var restart = Assert.Single(result.Decisions);
        Assert.Equal(("high", DecisionKind.Restart, "n1", "n2"), (restart.Vm, restart.Kind, restart.From, restart.To));
        Assert.StartsWith("n1 failed; priority 9", restart.Why);
        Assert.Equal("failed", result.ReasonsFor("low")["n1"]);
        Assert.Equal("memory needs 4096 MiB, 0 free", result.ReasonsFor("low")["n2"]);
        Assert.Equal("failed; the VM is not HA, so it is not restarted", result.ReasonsFor("scratch")["n1"]);
    }

    [Fact]
    public void Rebalance_moves_load_off_the_hot_node_within_the_limits()
    {
        var nodes = new[] { Host("hot"), Host("cold1"), Host("cold2") };
        var vms = Enumerable.Range(0, 8).Select(i => Vm($"v{i}", vcpu: 2, mem: 8192, node: "hot")).ToList();
        var result = Plan(Problem(nodes, vms, action: new PlanAction.Rebalance(), policy: new PlacementPolicy(MaxMigrations: 3, MaxMigrationsPerNode: 2)));
        Assert.Equal(2, result.Decisions.Count); // "hot" is in every move and may take part in only 2
        Assert.All(result.Decisions, d => Assert.Equal((DecisionKind.Migrate, "hot"), (d.Kind, d.From)));
        Assert.Contains("evens out load: hot", result.Decisions[0].Why);

        var unlimited = Plan(Problem(nodes, vms, action: new PlanAction.Rebalance(), policy: new PlacementPolicy(MaxMigrations: 3, MaxMigrationsPerNode: 10)));
        Assert.Equal(3, unlimited.Decisions.Count);
    }

    [Fact]
    public void Rebalance_is_sticky_a_vm_moves_only_when_the_load_gap_beats_min_gain()
    {
        // Two small VMs put node a about 4% above b: under a 5% min_gain nothing moves, under 1% one does.
        var nodes = new[] { Host("a"), Host("b") };
        var vms = new[] { Vm("x", vcpu: 0.5, mem: 512, node: "a"), Vm("y", vcpu: 0.5, mem: 512, node: "a") };
        Assert.Empty(Plan(Problem(nodes, vms, action: new PlanAction.Rebalance(), policy: new PlacementPolicy(MinGain: 0.05))).Decisions);
        var moved = Assert.Single(Plan(Problem(nodes, vms, action: new PlanAction.Rebalance(), policy: new PlacementPolicy(MinGain: 0.01))).Decisions);
        Assert.Contains("gap 4% > min_gain 1%", moved.Why);
    }

    [Fact]
    public void Pack_rebalance_consolidates_onto_the_busier_node()
    {
        var nodes = new[] { Host("busy"), Host("quiet") };
        var vms = new[] { Vm("a", vcpu: 8, mem: 32768, node: "busy"), Vm("b", vcpu: 1, mem: 4096, node: "quiet") };
        var move = Assert.Single(Plan(Problem(nodes, vms, action: new PlanAction.Rebalance(), policy: new PlacementPolicy(PlacementStrategy.Pack))).Decisions);
        Assert.Equal(("b", "quiet", "busy"), (move.Vm, move.From, move.To));
        Assert.StartsWith("consolidates load", move.Why);
    }

    [Fact]
    public void Failback_sends_vms_home_when_home_is_up_and_has_room()
    {
        var nodes = new[] { Host("home", mem: 8192), Host("away"), Host("other-home", mem: 1024) };
        var vms = new[]
        {
            Vm("returns", mem: 4096, home: "home", node: "away"),
            Vm("no-room", mem: 4096, home: "other-home", node: "away"),
            Vm("at-home", home: "home", node: "home"),
        };
        var result = Plan(Problem(nodes, vms, action: new PlanAction.Failback()));
        var move = Assert.Single(result.Decisions);
        Assert.Equal(("returns", DecisionKind.Migrate, "away", "home"), (move.Vm, move.Kind, move.From, move.To));
        Assert.StartsWith("home node home is up with room", move.Why);
    }

    [Fact]
    public void The_same_input_gives_the_same_output()
    {
        var problem = Problem(
            Enumerable.Range(0, 6).Select(i => Host($"n{i}", vcpu: 8 + i, attrs: ("rack", $"r{i % 2}"))),
            Enumerable.Range(0, 30).Select(i => Vm($"v{i:00}", vcpu: 1 + (i % 3), mem: 1024 * (1 + (i % 4)), priority: i % 5)),
            [new ColocationRule("apart", ["v01", "v02", "v03"], Score.MinusInfinity), new LocationRule("r0", ["v05"], 20, Attr("rack", AttributeOp.Eq, "r0"))],
            reserve: 1);
        var first = ResultWriter.Json(Plan(problem));
        var second = ResultWriter.Json(Plan(problem));
        Assert.Equal(Strip(first), Strip(second));

        static string Strip(string json) => System.Text.RegularExpressions.Regex.Replace(json, "\"elapsed_ms\": [0-9.]+", "");
    }
}
