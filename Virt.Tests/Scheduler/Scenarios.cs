using Virt.Scheduler;

namespace Virt.Tests.Scheduler;

/// <summary>Small scenario builders so example tests read like the situation they describe.</summary>
internal static class Scenarios
{
    public static NodeSpec Host(string name, double vcpu = 16, double mem = 65536, NodeState state = NodeState.Up, params (string, string)[] attrs) =>
        new(name, new Dictionary<string, double> { ["vcpu"] = vcpu, ["memory_mib"] = mem }, attrs.ToDictionary(a => a.Item1, a => a.Item2), state);

    public static VmSpec Vm(string name, double vcpu = 1, double mem = 1024, int priority = 0, bool ha = true, string? node = null, string? home = null,
        Dictionary<string, FailureHistory>? failures = null) =>
        new(name, new Dictionary<string, double> { ["vcpu"] = vcpu, ["memory_mib"] = mem }, priority, ha, node, home, failures);

    public static PlacementProblem Problem(IEnumerable<NodeSpec> nodes, IEnumerable<VmSpec> vms, IEnumerable<PlacementRule>? rules = null, PlanAction? action = null,
        PlacementPolicy? policy = null, int reserve = 0, Dictionary<string, double>? overcommit = null, DateTimeOffset? now = null) =>
        new(nodes.ToList(), vms.ToList(), (rules ?? []).ToList(), action ?? new PlanAction.Place(), policy ?? new PlacementPolicy(), overcommit, reserve, now);

    /// <summary>Plans, and has the independent checker confirm the plan, so every example is also checked.</summary>
    public static PlanResult Plan(PlacementProblem problem)
    {
        var result = PlacementEngine.Plan(problem);
        new PlanChecker(problem, result).CheckAll();
        return result;
    }

    public static PlanDecision Decision(this PlanResult result, string vm) => result.Decisions.Single(d => d.Vm == vm);

    public static Dictionary<string, string?> Targets(this PlanResult result) =>
        result.Decisions.GroupBy(d => d.Vm).ToDictionary(g => g.Key, g => g.Last().To);

    public static string? To(this PlanResult result, string vm) => result.Decisions.LastOrDefault(d => d.Vm == vm)?.To;

    public static IReadOnlyDictionary<string, string> ReasonsFor(this PlanResult result, string vm) =>
        result.Unplaced.Single(u => u.Vm == vm).Reasons;

    public static AttributeTest Attr(string attribute, AttributeOp op, string? value = null, params string[] values) =>
        new(attribute, op, value, values.Length > 0 ? values : null);
}
