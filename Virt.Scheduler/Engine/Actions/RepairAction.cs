using System.Globalization;

namespace Virt.Scheduler.Engine.Actions;

/// <summary>
/// Moves running VMs out of rule violations (a rule added while they ran), then toward preferences, within the
/// migration limits; each step is valid given the steps before it.
/// <list type="number">
/// <item>Violations, highest priority first. Where a rule binds several VMs the one that yields moves: the dependent
/// of a directed rule; in an anti-affinity set the lowest priorities beyond the limit; in a group or a same-zone set
/// every member away from the highest-priority one; of two VMs whose finite scores against each other make a total
/// negative, the lower priority. A move that keeps N+X is preferred, else it moves anyway (as an evacuation does).
/// A VM that can go nowhere keeps running with its reasons, or with unplaceable stop, is stopped.</item>
/// <item>Preferences: the single move with the largest gain in total score, while that gain beats the policy's
/// stickiness.</item>
/// </list>
/// </summary>
internal static class RepairAction
{
    public static void Run(Planner p, Unplaceable unplaceable)
    {
        var s = p.S;
        var perNode = new int[s.Nodes.Length];
        var moves = 0;
        var settled = new HashSet<int>();
        do
        {
            FixViolations(p, unplaceable, perNode, ref moves, settled);
        }
        while (PreferenceMove(p, perNode, ref moves, settled));
    }

    private static void FixViolations(Planner p, Unplaceable unplaceable, int[] perNode, ref int moves, HashSet<int> settled)
    {
        var s = p.S;
        while (NextViolator(p, settled) is ({ } vm, var violation))
        {
            var from = s.Location[vm];
            var unit = UnitToMove(p, vm, violation);
            var what = $"repair: on {s.NodeName(from)} {violation.Describe(s)}";
            var limited = moves + unit.Length > s.Policy.MaxMigrations;
            var kept = true;
            var to = limited ? -1 : Choose(p, unit, perNode, out kept);
            var note = kept ? "" : $"; no move kept the N+{s.ReserveFailures} failover map, so failover targets were planned again (see the reservation)";

            if (to >= 0)
            {
                var origins = unit.Select(m => s.Location[m]).ToArray();
                p.Move(unit, to);
                for (var k = 0; k < unit.Length; k++)
                {
                    perNode[origins[k]]++;
                    perNode[to]++;
                    moves++;
                    p.Record(unit[k], DecisionKind.Migrate, origins[k], to, $"{what}; {p.WhyChosen(unit, to, vm: unit[k])}{note}");
                }

                continue; // followers it left behind now break their own rule: the next rounds move them
            }

            settled.UnionWith(unit);
            var reasons = limited ? new Dictionary<string, string>(StringComparer.Ordinal) : p.Explain(unit);
            reasons[s.NodeName(from)] = limited
                ? $"runs here, but {violation.Describe(s)}; not moved: the plan reached max_migrations {s.Policy.MaxMigrations}"
                : $"runs here, but {violation.Describe(s)}";
            foreach (var m in unit)
                p.Unplaced(m, reasons);
            if (unplaceable != Unplaceable.Stop || limited)
                continue;
            foreach (var m in unit)
            {
                var at = s.Location[m];
                p.Remove(m);
                p.Record(m, DecisionKind.Stop, at, -1, $"{what}; can move nowhere (unplaceable stop)");
            }
        }

    }

    /// <summary>One move toward a preference, if one beats the stickiness (a move can open room for a VM whose scores were rolled back: violations are looked at again after each).</summary>
    private static bool PreferenceMove(Planner p, int[] perNode, ref int moves, HashSet<int> settled)
    {
        var s = p.S;
        if (moves >= s.Policy.MaxMigrations || BestPreferenceMove(p, perNode, settled) is not { } move)
            return false;
        var from = s.Location[move.Vm];
        var before = p.TotalText([move.Vm], from) ?? "total 0";
        p.Move([move.Vm], move.To);
        perNode[from]++;
        perNode[move.To]++;
        moves++;
        p.Record(move.Vm, DecisionKind.Migrate, from, move.To, string.Create(CultureInfo.InvariantCulture,
            $"repair: {p.TotalText([move.Vm], move.To)} on {s.NodeName(move.To)} against {before} on {s.NodeName(from)}; gain {move.Gain:0.##} > stickiness {s.Policy.Stickiness:0.##}; load {Planner.Percent(s.Load(move.To))} after"));
        return true;
    }

    /// <summary>The highest-priority running VM (then name) that violates a rule it must yield to, and that rule.</summary>
    private static (int? Vm, Rejection Violation) NextViolator(Planner p, HashSet<int> settled)
    {
        var s = p.S;
        (int? Vm, Rejection Violation) best = (null, default);
        for (var vm = 0; vm < s.Vms.Length; vm++)
        {
            var at = s.Location[vm];
            if (at < 0 || !s.Alive[at] || settled.Contains(vm))
                continue;
            if (best.Vm is { } b && s.Vms[b].Priority >= s.Vms[vm].Priority)
                continue;
            if (Violation(p, vm) is { } violation)
                best = (vm, violation);
        }

        // What a VM follows is fixed first: moving an anchor afterwards would leave it behind again.
        for (var depth = 0; best.Vm is { } chosen && depth < s.Vms.Length; depth++)
        {
            var anchor = p.Prerequisites(chosen, orders: false)
                .FirstOrDefault(a => s.Location[a] >= 0 && s.Alive[s.Location[a]] && !settled.Contains(a) && Violation(p, a) is not null, -1);
            if (anchor < 0)
                break;
            best = (anchor, Violation(p, anchor)!.Value);
        }

        return best;
    }

    /// <summary>The rule <paramref name="vm"/> breaks where it runs and must yield to, or null.</summary>
    internal static Rejection? Violation(Planner p, int vm)
    {
        var s = p.S;
        var at = s.Location[vm];
        if (p.F.Rules(vm, at, running: true) is not { } first)
            return null;
        if (first.Kind is RejectionKind.Apart or RejectionKind.ApartWithinUnit)
        {
            // Each anti-affinity set on its own: in one this VM may stay, in another it is the one to move.
            foreach (var r in s.Rules.VmApart[vm])
            {
                var set = s.Rules.Apart[r];
                var zone = set.Zones.Of[at];
                if (zone >= 0 && s.Rules.ApartCount[r][zone] > set.Limit && YieldsApart(s, vm, r))
                {
                    var other = set.Members.First(m => m != vm && s.Location[m] is var mAt and >= 0 && set.Zones.Of[mAt] == zone);
                    return new Rejection(RejectionKind.Apart, vm, at, Rule: r, Other: other);
                }
            }

            if (p.F.Rules(vm, at, running: true, residents: false) is not { } rest)
                return null;
            first = rest;
        }

        var yields = first.Kind switch
        {
            RejectionKind.Together => Leader(s, s.Rules.Groups[s.Rules.Group[vm]]) is var leader && s.Location[leader] != at,
            RejectionKind.SameZone => Leader(s, s.Rules.Same[first.Rule].Members) is var leader && leader != vm
                                      && s.Rules.Same[first.Rule].Zones.Of[s.Location[leader]] != s.Rules.Same[first.Rule].Zones.Of[at],
            RejectionKind.NegativeScore => s.Rules.LocationScore(vm, at) < 0 || YieldsScore(p, vm),
            _ => true,
        };
        return yields ? first : null;
    }

    /// <summary>In an over-full zone the members beyond the limit yield, lowest priority first (then the later name); a directed pair's dependent.</summary>
    private static bool YieldsApart(ClusterState s, int vm, int r)
    {
        var set = s.Rules.Apart[r];
        if (set.Yielder >= 0)
            return set.Yielder == vm;
        var zone = set.Zones.Of[s.Location[vm]];
        var there = set.Members.Where(m => s.Location[m] >= 0 && s.Alive[s.Location[m]] && set.Zones.Of[s.Location[m]] == zone)
            .OrderBy(m => s.Vms[m].Priority).ThenByDescending(m => s.VmName(m), StringComparer.Ordinal).ToList();
        return there.IndexOf(vm) is var i && i >= 0 && i < there.Count - set.Limit;
    }

    /// <summary>
    /// A total made negative by neighbours: the lowest priority of those involved yields, if its own total is negative
    /// too (a neighbour whose scores were rolled back, or that other scores keep positive, has no reason to move).
    /// </summary>
    private static bool YieldsScore(Planner p, int vm)
    {
        var s = p.S;
        var at = s.Location[vm];
        foreach (var r in s.Rules.VmSoft[vm])
        {
            var set = s.Rules.Soft[r];
            if (set.Score >= 0 || set.Zones.Of[at] is not (var zone and >= 0))
                continue;
            foreach (var m in set.Members)
            {
                if (m != vm && s.Location[m] is var mAt and >= 0 && set.Zones.Of[mAt] == zone && Ranks(s, m, vm) < 0
                    && p.F.Rules(m, mAt, running: true) is { Kind: RejectionKind.NegativeScore })
                    return false; // m is lower and unhappy too: m yields
            }
        }

        return true;
    }

    /// <summary>Negative when <paramref name="a"/> yields before <paramref name="b"/>: lower priority, then the later name.</summary>
    private static int Ranks(ClusterState s, int a, int b) =>
        s.Vms[a].Priority != s.Vms[b].Priority ? s.Vms[a].Priority.CompareTo(s.Vms[b].Priority) : string.CompareOrdinal(s.VmName(b), s.VmName(a));

    /// <summary>The running member that stays: highest priority, then the first name.</summary>
    private static int Leader(ClusterState s, int[] members) =>
        members.Where(m => s.Location[m] >= 0 && s.Alive[s.Location[m]]).OrderByDescending(m => s.Vms[m].Priority).ThenBy(m => s.VmName(m), StringComparer.Ordinal).First();

    /// <summary>
    /// What moves with the VM: for a split group, every member away from the leader (toward it); otherwise the VM
    /// and what is bonded to it on its node.
    /// </summary>
    private static int[] UnitToMove(Planner p, int vm, Rejection violation)
    {
        var s = p.S;
        if (violation.Kind == RejectionKind.Together)
        {
            var members = s.Rules.Groups[s.Rules.Group[vm]];
            var home = s.Location[Leader(s, members)];
            return members.Where(m => s.Location[m] >= 0 && s.Location[m] != home).ToArray();
        }

        var at = s.Location[vm];
        return p.R.Units(s.Residents[at].Where(m => m == vm || (s.Rules.Bond[vm] >= 0 && s.Rules.Bond[m] == s.Rules.Bond[vm])).ToList())
            .First(u => u.Contains(vm));
    }

    private static int Choose(Planner p, int[] unit, int[] perNode, out bool reservationKept)
    {
        var s = p.S;
        var limit = s.Policy.MaxMigrationsPerNode;
        var froms = unit.Select(m => s.Location[m]).ToHashSet();
        reservationKept = true;
        if (froms.Any(f => perNode[f] + unit.Count(m => s.Location[m] == f) > limit))
            return -1;
        return p.ChooseMove(unit, out reservationKept, n => !froms.Contains(n) && perNode[n] + unit.Length <= limit);
    }

    private static (int Vm, int To, double Gain)? BestPreferenceMove(Planner p, int[] perNode, HashSet<int> settled)
    {
        var s = p.S;
        var limit = s.Policy.MaxMigrationsPerNode;
        (int Vm, int To, double Gain, double Load)? best = null;
        for (var vm = 0; vm < s.Vms.Length; vm++)
        {
            var from = s.Location[vm];
            if (from < 0 || !s.Alive[from] || settled.Contains(vm) || s.Rules.Bond[vm] >= 0 || perNode[from] >= limit || !Scored(s, vm))
                continue;
            var here = s.Rules.Preference(vm, from);
            for (var to = 0; to < s.Nodes.Length; to++)
            {
                if (to == from || perNode[to] >= limit || !s.Accepting[to])
                    continue;
                var gain = s.Rules.Preference(vm, to) - here;
                if (gain <= s.Policy.Stickiness + 1e-9 || (best is { } b && gain < b.Gain))
                    continue;
                var load = s.Load(to, s.DemandOf([vm]));
                if (best is { } c && gain == c.Gain && load >= c.Load)
                    continue;
                if (p.F.Check([vm], to) is not null || !p.R.CanReserve([vm], to) || HarmsOthers(s, vm, to))
                    continue;
                best = (vm, to, gain, load);
            }
        }

        return best is { } m ? (m.Vm, m.To, m.Gain) : null;
    }

    /// <summary>Would <paramref name="vm"/> arriving on <paramref name="to"/> turn a neighbour's total negative (a preference is not worth a new violation)?</summary>
    private static bool HarmsOthers(ClusterState s, int vm, int to)
    {
        if (!s.Policy.NegativeScoreForbids)
            return false;
        foreach (var r in s.Rules.VmSoft[vm])
        {
            var set = s.Rules.Soft[r];
            if (set.Score >= 0 || set.Zones.Of[to] is not (var zone and >= 0))
                continue;
            foreach (var m in set.Members)
            {
                if (m != vm && s.Location[m] is var at and >= 0 && set.Zones.Of[at] == zone
                    && set.Zones.Of[s.Location[vm]] != zone && s.Rules.Preference(m, at) + set.Score < 0)
                    return true;
            }
        }

        foreach (var f in s.Rules.AnchorOf[vm])
        {
            var follow = s.Rules.Follows[f];
            if (!double.IsFinite(follow.Score) || follow.Score >= 0 || follow.Zones.Of[to] is not (var zone and >= 0))
                continue;
            if (s.Location[follow.Dependent] is var at and >= 0 && follow.Zones.Of[at] == zone
                && follow.Zones.Of[s.Location[vm]] != zone && s.Rules.Preference(follow.Dependent, at) + follow.Score < 0)
                return true;
        }

        return false;
    }

    private static bool Scored(ClusterState s, int vm) =>
        s.Rules.VmSoft[vm].Length > 0
        || s.Rules.VmLocation[vm].Any(r => double.IsFinite(s.Rules.Location[r].Rule.Score))
        || s.Rules.VmFollows[vm].Any(f => double.IsFinite(s.Rules.Follows[f].Score));
}
