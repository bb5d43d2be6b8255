using Virt.Scheduler;
using static Virt.Tests.Scheduler.Scenarios;

namespace Virt.Tests.Scheduler;

/// <summary>start_after between VMs and groups, mandatory or optional, in place and fail plans.</summary>
public sealed class StartOrderTests
{
    private static OrderRule After(string name, string then, string first, bool mandatory = true) => new(name, [then], [first], mandatory);

    [Fact]
    public void A_vm_starts_after_what_it_waits_for_and_lists_those_steps()
    {
        var result = Plan(Problem([Host("n1"), Host("n2")], [Vm("app", priority: 9), Vm("db", priority: 1)], [After("app-after-db", "app", "db")]));
        Assert.Equal(["db", "app"], result.Decisions.Select(d => d.Vm));
        Assert.Equal([1], result.Decision("app").After);
        Assert.Empty(result.Decision("db").After);
    }

    [Fact]
    public void A_mandatory_order_blocks_when_the_first_cannot_run_and_an_optional_one_does_not()
    {
        var nodes = new[] { Host("n1", mem: 2048) };
        var vms = new[] { Vm("db", mem: 4096), Vm("app") };
        var blocked = Plan(Problem(nodes, vms, [After("app-after-db", "app", "db")]));
        Assert.Empty(blocked.Decisions);
        Assert.Equal("starts after db (rule app-after-db, mandatory), which does not run", blocked.ReasonsFor("app")["n1"]);

        var optional = Plan(Problem(nodes, vms, [After("app-after-db", "app", "db", mandatory: false)]));
        Assert.Equal("n1", optional.To("app"));
        Assert.Empty(optional.Decision("app").After);
    }

    [Fact]
    public void A_first_that_already_runs_satisfies_the_order()
    {
        var result = Plan(Problem([Host("n1")], [Vm("db", node: "n1"), Vm("app")], [After("app-after-db", "app", "db")]));
        Assert.Empty(result.Decision("app").After);
    }

    [Fact]
    public void Groups_order_every_member_after_every_member()
    {
        var vms = new[] { Vm("db-1") with { Group = "db" }, Vm("db-2") with { Group = "db" }, Vm("web-1", priority: 9) with { Group = "web" }, Vm("web-2", priority: 9) with { Group = "web" } };
        var result = Plan(Problem([Host("n1"), Host("n2")], vms, [new OrderRule("web-after-db", ["web"], ["db"])]));
        var dbSteps = result.Decisions.Where(d => d.Vm.StartsWith("db")).Select(d => d.Step).Order().ToList();
        Assert.All(result.Decisions.Where(d => d.Vm.StartsWith("web")), d => Assert.Equal(dbSteps, d.After));
        Assert.True(result.Decisions.Where(d => d.Vm.StartsWith("web")).Min(d => d.Step) > dbSteps.Max());
    }

    [Fact]
    public void A_failed_node_restarts_in_order_and_a_then_waits_for_its_first_restart()
    {
        var nodes = new[] { Host("n1"), Host("n2"), Host("n3") };
        var vms = new[] { Vm("app", priority: 9, node: "n1"), Vm("db", priority: 1, node: "n1") };
        var result = Plan(Problem(nodes, vms, [After("app-after-db", "app", "db")], new PlanAction.Fail(["n1"]), reserve: 1));
        Assert.Equal([("db", DecisionKind.Restart), ("app", DecisionKind.Restart)], result.Decisions.Select(d => (d.Vm, d.Kind)));
        Assert.Equal([1], result.Decision("app").After);

        var noRoomForDb = Plan(Problem([Host("n1"), Host("n2", mem: 2048)], [Vm("app", priority: 9, node: "n1"), Vm("db", mem: 4096, node: "n1")],
            [After("app-after-db", "app", "db")], new PlanAction.Fail(["n1"])));
        Assert.Empty(noRoomForDb.Decisions);
        Assert.Equal("starts after db (rule app-after-db, mandatory), which does not run", noRoomForDb.ReasonsFor("app")["n2"]);
    }

    [Fact]
    public void Preemption_never_stops_what_a_start_waits_for()
    {
        var result = Plan(Problem([Host("n1", mem: 4096)], [Vm("db", mem: 2048, priority: 1, node: "n1"), Vm("batch", mem: 2048, priority: 2, node: "n1"), Vm("app", mem: 2048, priority: 9)],
            [After("app-after-db", "app", "db")], policy: new PlacementPolicy(Preempt: true)));
        Assert.Equal([("batch", DecisionKind.Stop), ("app", DecisionKind.Start)], result.Decisions.Select(d => (d.Vm, d.Kind)));
    }
}
