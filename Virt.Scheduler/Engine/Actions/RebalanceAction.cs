namespace Virt.Scheduler.Engine.Actions;

/// <summary>
/// Greedy migration plan: each round makes the single move that improves the spread most (balanced: lower sum of
/// squared utilisation; pack: higher, which empties lightly used nodes), until no move qualifies or a migration
/// limit is reached. Stickiness: a VM moves only when the load gap between its node and the target beats min_gain
/// (balanced: its node is busier by more than min_gain; pack: the target is), and never to a node it prefers less.
/// Each step is valid given the steps before it.
/// </summary>
internal static class RebalanceAction
{
    public static void Run(Planner p)
    {
        var s = p.S;
        var perNode = new int[s.Nodes.Length];
        var refused = new HashSet<(int Vm, int Node)>();
        for (var moves = 0; moves < s.Policy.MaxMigrations; moves++)
        {
            var best = BestMove(p, perNode, refused);
            if (best is not { } move)
                return;
            if (!p.R.CanReserve([move.Vm], move.To))
            {
                refused.Add((move.Vm, move.To));
                moves--;
                continue;
            }

            var from = s.Location[move.Vm];
            p.Move([move.Vm], move.To);
            perNode[from]++;
            perNode[move.To]++;
            p.Record(move.Vm, DecisionKind.Migrate, from, move.To,
                string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{(p.Balanced ? "evens out" : "consolidates")} load: {s.NodeName(from)} {Planner.Percent(move.FromLoad)} -> {Planner.Percent(s.Load(from))}, {s.NodeName(move.To)} {Planner.Percent(move.ToLoad)} -> {Planner.Percent(s.Load(move.To))} (gap {Planner.Percent(Math.Abs(move.FromLoad - move.ToLoad))} > min_gain {Planner.Percent(s.Policy.MinGain)})"));
        }
    }

    private static (int Vm, int To, double Gain, double FromLoad, double ToLoad)? BestMove(Planner p, int[] perNode, HashSet<(int, int)> refused)
    {
        var s = p.S;
        var limit = s.Policy.MaxMigrationsPerNode;
        (int Vm, int To, double Gain, double FromLoad, double ToLoad)? best = null;
        var minus = new double[s.D];
        for (var vm = 0; vm < s.Vms.Length; vm++)
        {
            var from = s.Location[vm];
            if (from < 0 || !s.Alive[from] || perNode[from] >= limit || s.Rules.Bond[vm] >= 0)
                continue;
            for (var d = 0; d < s.D; d++)
                minus[d] = -s.Demand[(vm * s.D) + d];
            var plus = minus.Select(x => -x).ToArray();
            var fromBefore = s.Spread(from);
            var fromAfter = s.Spread(from, minus);
            var preference = s.Rules.Preference(vm, from);
            for (var to = 0; to < s.Nodes.Length; to++)
            {
                if (to == from || perNode[to] >= limit || refused.Contains((vm, to)) || !s.Accepting[to])
                    continue;
                var gap = p.Balanced ? s.Load(from) - s.Load(to) : s.Load(to) - s.Load(from);
                if (gap <= s.Policy.MinGain)
                    continue;
                var toBefore = s.Spread(to);
                var toAfter = s.Spread(to, plus);
                var change = fromBefore + toBefore - fromAfter - toAfter;
                var gain = p.Balanced ? change : -change;
                if (gain <= 1e-12 || (best is { } b && gain <= b.Gain))
                    continue;
                if (s.Rules.Preference(vm, to) < preference || p.F.Check([vm], to) is not null)
                    continue;
                best = (vm, to, gain, s.Load(from), s.Load(to));
            }
        }

        return best;
    }
}
