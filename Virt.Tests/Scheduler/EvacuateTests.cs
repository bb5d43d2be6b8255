using Virt.Scheduler;
using static Virt.Tests.Scheduler.Scenarios;

namespace Virt.Tests.Scheduler;

/// <summary>Evacuation of VMs that can go nowhere: keep, stop by priority, or preempt.</summary>
public sealed class EvacuateTests
{
    private static readonly NodeSpec[] Nodes = [Host("drain", mem: 16384), Host("n2", mem: 8192)];

    private static readonly VmSpec[] Vms =
    [
        Vm("high", mem: 4096, priority: 9, node: "drain"), Vm("mid", mem: 4096, priority: 5, node: "drain"), Vm("low", mem: 4096, priority: 1, node: "drain"),
    ];

    [Fact]
    public void With_keep_what_fits_nowhere_stays_with_its_reasons()
    {
        var result = Plan(Problem(Nodes, Vms, action: new PlanAction.Evacuate(["drain"])));
        Assert.Equal(["high", "mid"], result.Decisions.Select(d => d.Vm));
        Assert.Equal("being evacuated", result.ReasonsFor("low")["drain"]);
    }

    [Fact]
    public void With_stop_the_lowest_priorities_are_stopped_and_the_node_is_empty()
    {
        var result = Plan(Problem(Nodes, Vms, action: new PlanAction.Evacuate(["drain"], Unplaceable.Stop)));
        Assert.Equal([("high", DecisionKind.Migrate), ("mid", DecisionKind.Migrate), ("low", DecisionKind.Stop)], result.Decisions.Select(d => (d.Vm, d.Kind)));
        Assert.Equal("evacuating drain; can move nowhere (unplaceable stop); priority 1", result.Decisions[2].Why);
    }

    [Fact]
    public void With_preempt_a_high_priority_vm_displaces_lower_ones_elsewhere()
    {
        var vms = new[] { Vm("critical", mem: 8192, priority: 90, node: "drain"), Vm("batch", mem: 8192, priority: 1, node: "n2") };
        var polite = Plan(Problem(Nodes, vms, action: new PlanAction.Evacuate(["drain"])));
        Assert.Empty(polite.Decisions);
        var result = Plan(Problem(Nodes, vms, action: new PlanAction.Evacuate(["drain"]), policy: new PlacementPolicy(Preempt: true)));
        Assert.Equal([("batch", DecisionKind.Stop, "n2"), ("critical", DecisionKind.Migrate, "n2")], result.Decisions.Select(d => (d.Vm, d.Kind, d.To ?? d.From)));
        Assert.Equal("evacuating drain; preempts batch (lower priority than 90)", result.Decisions[1].Why);
    }
}
