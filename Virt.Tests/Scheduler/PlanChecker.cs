using Virt.Scheduler;

namespace Virt.Tests.Scheduler;

/// <summary>
/// Checks a plan against its problem without using engine code: replays the decisions step by step over the
/// starting placement, and proves the N+X claim by trying every set of X failed nodes with the given failover map.
/// Throws with a description of the first violation.
/// </summary>
internal sealed class PlanChecker
{
    private readonly PlacementProblem _p;
    private readonly PlanResult _r;
    private readonly Dictionary<string, NodeSpec> _nodes;
    private readonly Dictionary<string, VmSpec> _vms;
    private readonly string[] _dims;
    private readonly Dictionary<string, string?> _at;
    private readonly HashSet<string> _dead = [];
    private readonly HashSet<string> _closed = [];

    public PlanChecker(PlacementProblem problem, PlanResult result)
    {
        _p = problem;
        _r = result;
        _nodes = problem.Nodes.ToDictionary(n => n.Name);
        _vms = problem.Vms.ToDictionary(v => v.Name);
        _dims = problem.Nodes.SelectMany(n => n.Capacity.Keys).Distinct().ToArray();
        _at = problem.Vms.ToDictionary(v => v.Name, v => v.Node);
        foreach (var n in problem.Nodes.Where(n => n.State is NodeState.Down or NodeState.Maintenance))
            _dead.Add(n.Name);
        foreach (var n in problem.Nodes.Where(n => n.State != NodeState.Up))
            _closed.Add(n.Name);
    }

    private double Cap(string node, string dim) => _nodes[node].Capacity.GetValueOrDefault(dim) * (_p.Overcommit?.GetValueOrDefault(dim, 1.0) ?? 1.0);

    private double Used(string node, string dim) => _at.Where(a => a.Value == node).Sum(a => _vms[a.Key].Demand.GetValueOrDefault(dim));

    private bool Alive(string node) => !_dead.Contains(node);

    public void CheckAll()
    {
        switch (_p.Action)
        {
            case PlanAction.Fail f:
                foreach (var n in f.Nodes)
                {
                    _dead.Add(n);
                    _closed.Add(n);
                }

                foreach (var vm in _at.Where(a => a.Value is not null && f.Nodes.Contains(a.Value)).Select(a => a.Key).ToList())
                {
                    var handled = _r.Decisions.Any(d => d.Vm == vm && d.Kind == DecisionKind.Restart) || _r.Unplaced.Any(u => u.Vm == vm);
                    Require(handled, $"{vm} was on failed {_at[vm]} but is neither restarted nor explained");
                    Require(_vms[vm].Ha || !_r.Decisions.Any(d => d.Vm == vm), $"{vm} is not HA but was restarted");
                    _at[vm] = null;
                }

                break;
            case PlanAction.Evacuate e:
                foreach (var n in e.Nodes)
                    _closed.Add(n);
                break;
        }

        var moved = new HashSet<string>();
        var perNode = new Dictionary<string, int>();
        var expectedStep = 1;
        foreach (var d in _r.Decisions)
        {
            Require(d.Step == expectedStep++, $"steps are not 1, 2, 3...: {d.Step}");
            switch (d.Kind)
            {
                case DecisionKind.Stop:
                    Require(_at[d.Vm] == d.From, $"step {d.Step}: {d.Vm} stops on {d.From} but runs on {_at[d.Vm]}");
                    _at[d.Vm] = null;
                    continue;
                case DecisionKind.Migrate:
                    Require(_at[d.Vm] == d.From && d.From != d.To, $"step {d.Step}: {d.Vm} migrates from {d.From} but runs on {_at[d.Vm]}");
                    perNode[d.From!] = perNode.GetValueOrDefault(d.From!) + 1;
                    perNode[d.To!] = perNode.GetValueOrDefault(d.To!) + 1;
                    break;
                default:
                    Require(_at[d.Vm] is null, $"step {d.Step}: {d.Vm} starts but already runs on {_at[d.Vm]}");
                    break;
            }

            var to = d.To!;
            Require(!_closed.Contains(to), $"step {d.Step}: {d.Vm} goes to {to}, which takes no VMs");
            foreach (var dim in _dims)
            {
                var need = _vms[d.Vm].Demand.GetValueOrDefault(dim);
                Require(Used(to, dim) + need <= Cap(to, dim) + 1e-6, $"step {d.Step}: {d.Vm} overfills {to} on {dim} ({Used(to, dim)} + {need} > {Cap(to, dim)})");
            }

            _at[d.Vm] = to;
            moved.Add(d.Vm);
        }

        foreach (var vm in moved.Where(v => _at[v] is not null))
            HardRulesHold(vm, _at[vm]!);
        InfinityColocations();

        if (_p.Action is PlanAction.Rebalance)
        {
            var policy = _p.Policy ?? new PlacementPolicy();
            Require(_r.Decisions.Count <= policy.MaxMigrations, $"{_r.Decisions.Count} migrations > max_migrations {policy.MaxMigrations}");
            Require(perNode.Values.All(c => c <= policy.MaxMigrationsPerNode), "a node takes part in more migrations than max_migrations_per_node");
        }

        if (_p.Action is PlanAction.Evacuate evacuate)
        {
            foreach (var vm in _p.Vms.Where(v => v.Node is not null && evacuate.Nodes.Contains(v.Node)).Select(v => v.Name))
                Require(_at[vm] is null || !evacuate.Nodes.Contains(_at[vm]!) || _r.Unplaced.Any(u => u.Vm == vm), $"{vm} is still on evacuated {_at[vm]} with no explanation");
        }

        foreach (var u in _r.Unplaced)
            Require(u.Reasons.Count > 0 && u.Reasons.Values.All(r => !string.IsNullOrWhiteSpace(r)), $"{u.Vm} is unplaced without reasons");

        if (_r.Reservation.Holds)
            ReservationWitness();
    }

    private void HardRulesHold(string vm, string node)
    {
        foreach (var rule in _p.Rules.Where(r => r.Vms.Contains(vm)))
        {
            switch (rule)
            {
                case LocationRule { Score: Score.MinusInfinity } l:
                    Require(!l.Expression.Holds(_nodes[node].Attributes), $"{vm} on {node} violates {l.Name} (-INFINITY)");
                    break;
                case LocationRule { Score: Score.Infinity } l:
                    Require(l.Expression.Holds(_nodes[node].Attributes), $"{vm} on {node} violates {l.Name} (INFINITY)");
                    break;
                case ColocationRule { Score: Score.MinusInfinity } c:
                    Require(!c.Vms.Any(o => o != vm && _at[o] == node), $"{vm} on {node} shares it with a member of {c.Name} (-INFINITY)");
                    break;
            }
        }

        if (_vms[vm].Failures?.GetValueOrDefault(node) is { } h)
        {
            var policy = _p.Policy ?? new PlacementPolicy();
            Require(h.Count < policy.MigrationThreshold || h.LastSecondsAgo >= policy.FailureTimeoutSeconds, $"{vm} placed on {node} despite its failure map");
        }
    }

    private void InfinityColocations()
    {
        foreach (var rule in _p.Rules.OfType<ColocationRule>().Where(c => c.Score == Score.Infinity))
        {
            var running = rule.Vms.Where(v => _at[v] is { } n && Alive(n)).Select(v => _at[v]).Distinct().ToList();
            Require(running.Count <= 1, $"{rule.Name} (INFINITY) members run on {string.Join(", ", running)}");
            foreach (var vm in rule.Vms.Where(v => _at[v] is null || !Alive(_at[v]!)))
            {
                var started = _r.Decisions.Any(d => d.Vm == vm);
                Require(!started, $"{vm} of {rule.Name} was started but is not with the others");
            }
        }
    }

    /// <summary>For every set of X live nodes failing, each HA VM there restarts on its first surviving target, and everything fits.</summary>
    private void ReservationWitness()
    {
        var x = _p.ReserveFailures;
        if (x == 0)
            return;
        var alive = _p.Nodes.Where(n => Alive(n.Name)).Select(n => n.Name).ToList();
        var ha = _at.Where(a => a.Value is not null && Alive(a.Value) && _vms[a.Key].Ha).Select(a => a.Key).ToList();
        foreach (var vm in ha)
        {
            Require(_r.FailoverTargets.TryGetValue(vm, out var t) && t.Count == x && t.Distinct().Count() == x && !t.Contains(_at[vm]!),
                $"reservation holds but {vm} has no valid failover targets");
        }

        foreach (var failed in Combinations(alive, Math.Min(x, alive.Count)))
        {
            var arrivals = new Dictionary<string, List<string>>();
            foreach (var vm in ha.Where(v => failed.Contains(_at[v]!)))
            {
                var target = _r.FailoverTargets[vm].FirstOrDefault(t => !failed.Contains(t));
                Require(target is not null, $"if {string.Join("+", failed)} fail, {vm} has no surviving target");
                Require(!_closed.Contains(target!), $"{vm}'s failover target {target} takes no VMs");
                (arrivals.TryGetValue(target!, out var list) ? list : arrivals[target!] = []).Add(vm);
            }

            foreach (var (target, vms) in arrivals)
            {
                foreach (var dim in _dims)
                {
                    var load = Used(target, dim) + vms.Sum(v => _vms[v].Demand.GetValueOrDefault(dim));
                    Require(load <= Cap(target, dim) + 1e-6, $"if {string.Join("+", failed)} fail, {target} overflows on {dim}: {load} > {Cap(target, dim)}");
                }

                var saved = vms.ToDictionary(v => v, v => _at[v]);
                foreach (var v in vms)
                    _at[v] = target;
                try
                {
                    foreach (var v in vms)
                        HardRulesHold(v, target);
                }
                finally
                {
                    foreach (var (v, n) in saved)
                        _at[v] = n;
                }
            }
        }
    }

    private static IEnumerable<List<string>> Combinations(List<string> items, int k)
    {
        if (k == 0)
        {
            yield return [];
            yield break;
        }

        for (var i = 0; i <= items.Count - k; i++)
        {
            foreach (var rest in Combinations(items.Skip(i + 1).ToList(), k - 1))
                yield return [items[i], .. rest];
        }
    }

    private static void Require(bool condition, string violation)
    {
        if (!condition)
            throw new InvalidOperationException(violation);
    }
}
