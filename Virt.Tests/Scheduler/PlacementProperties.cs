using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using Virt.Scheduler;

namespace Virt.Tests.Scheduler;

/// <summary>
/// Properties over random scenarios (FsCheck 3 from plain facts). Each failure message carries FsCheck's seed and
/// the scenario parameters, so a counterexample replays exactly. VIRT_PROPERTY_SCALE=N runs N times as many
/// scenarios, for a longer search before a release.
/// </summary>
public sealed class PlacementProperties
{
    private static readonly Arbitrary<(int Seed, int Nodes, int Vms, int Reserve, int Action)> Scenarios =
        (from seed in Gen.Choose(0, int.MaxValue)
         from nodes in Gen.Choose(1, 7)
         from vms in Gen.Choose(0, 35)
         from reserve in Gen.Choose(0, 2)
         from action in Gen.Choose(0, RandomScenario.Actions - 1)
         select (seed, nodes, vms, reserve, action)).ToArbitrary();

    private static Config Runs(int count) => Config.QuickThrowOnFailure.WithMaxTest(count * int.Parse(Environment.GetEnvironmentVariable("VIRT_PROPERTY_SCALE") ?? "1"));

    private static PlacementProblem Problem((int Seed, int Nodes, int Vms, int Reserve, int Action) s) =>
        RandomScenario.Make(s.Seed, s.Nodes, s.Vms, s.Reserve, s.Action);

    [Fact]
    public void Plans_respect_capacity_at_every_step_hard_rules_limits_and_the_reservation_they_claim() =>
        Prop.ForAll(Scenarios, s =>
        {
            var problem = Problem(s);
            new PlanChecker(problem, PlacementEngine.Plan(problem)).CheckAll();
        }).Check(Runs(400));

    [Fact]
    public void Place_with_reservation_holds_its_claim_on_denser_clusters() =>
        Prop.ForAll(Scenarios, s =>
        {
            var problem = Problem(s with { Vms = s.Vms + 20, Action = 0, Reserve = Math.Max(1, s.Reserve) });
            var result = PlacementEngine.Plan(problem);
            new PlanChecker(problem, result).CheckAll();
        }).Check(Runs(200));

    [Fact]
    public void Evacuation_empties_the_nodes_or_explains_each_vm_left() =>
        Prop.ForAll(Scenarios, s =>
        {
            var problem = Problem(s with { Action = 1 });
            var result = PlacementEngine.Plan(problem);
            var evacuated = ((PlanAction.Evacuate)problem.Action).Nodes;
            foreach (var vm in problem.Vms.Where(v => v.Node is not null && evacuated.Contains(v.Node)))
            {
                var last = result.Decisions.LastOrDefault(d => d.Vm == vm.Name);
                var moved = last is { Kind: DecisionKind.Migrate } && !evacuated.Contains(last.To!);
                var explained = result.Unplaced.Any(u => u.Vm == vm.Name);
                if (moved == explained)
                    throw new InvalidOperationException($"{vm.Name} on {vm.Node}: moved={moved}, explained={explained}");
            }

            new PlanChecker(problem, result).CheckAll();
        }).Check(Runs(200));

    [Fact]
    public void The_same_scenario_always_gives_the_same_plan() =>
        Prop.ForAll(Scenarios, s =>
        {
            var problem = Problem(s);
            var first = Strip(ResultWriter.Json(PlacementEngine.Plan(problem)));
            var second = Strip(ResultWriter.Json(PlacementEngine.Plan(Problem(s))));
            return first == second;
        }).Check(Runs(150));

    [Fact]
    public void The_checker_catches_a_plan_that_overfills_a_node()
    {
        // Guards the guard: a hand-made bad plan must be rejected.
        var problem = new PlacementProblem(
            [new NodeSpec("n1", new Dictionary<string, double> { ["memory_mib"] = 1024 }, new Dictionary<string, string>())],
            [new VmSpec("big", new Dictionary<string, double> { ["memory_mib"] = 2048 })],
            [], new PlanAction.Place());
        var bad = new PlanResult([new PlanDecision("big", DecisionKind.Start, null, "n1", 1, "")], [], new ReservationReport(0, true, ""), 0, new Dictionary<string, IReadOnlyList<string>>());
        var ex = Assert.Throws<InvalidOperationException>(() => new PlanChecker(problem, bad).CheckAll());
        Assert.Contains("overfills n1", ex.Message);
    }

    private static string Strip(string json) => Regex.Replace(json, "\"elapsed_ms\": [0-9.]+", "");
}
