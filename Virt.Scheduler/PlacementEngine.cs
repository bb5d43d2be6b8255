using System.Diagnostics;
using Virt.Scheduler.Engine;
using Virt.Scheduler.Engine.Actions;

namespace Virt.Scheduler;

/// <summary>
/// The placement engine: a pure function from a <see cref="PlacementProblem"/> to a <see cref="PlanResult"/>.
/// No I/O, no clock except to report how long it took, no randomness: the same input gives the same output.
/// </summary>
public static class PlacementEngine
{
    public static PlanResult Plan(PlacementProblem problem)
    {
        ScenarioReader.Validate(problem);
        var started = Stopwatch.GetTimestamp();
        var planner = new Planner(problem);
        switch (problem.Action)
        {
            case PlanAction.Place:
                PlaceAction.Run(planner);
                break;
            case PlanAction.Evacuate evacuate:
                EvacuateAction.Run(planner, evacuate.Nodes, evacuate.Unplaceable);
                break;
            case PlanAction.Fail fail:
                FailAction.Run(planner, fail.Nodes);
                break;
            case PlanAction.Rebalance:
                RebalanceAction.Run(planner);
                break;
            case PlanAction.Failback:
                FailbackAction.Run(planner);
                break;
            case PlanAction.Repair repair:
                RepairAction.Run(planner, repair.Unplaceable);
                break;
            default:
                throw new ScenarioException($"unknown action {problem.Action.Kind}");
        }

        return planner.Result(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
