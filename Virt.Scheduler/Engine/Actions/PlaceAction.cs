namespace Virt.Scheduler.Engine.Actions;

/// <summary>Starts pending VMs, highest priority first; with preempt, a VM may displace lower-priority ones.</summary>
internal static class PlaceAction
{
    public static void Run(Planner p) =>
        StartAll(p, Enumerable.Range(0, p.S.Vms.Length).Where(v => p.S.Location[v] < 0), DecisionKind.Start, _ => -1, _ => "");

    /// <summary>
    /// Shared by place and fail. Units go by priority, but what a unit waits for (the anchor it follows, what it
    /// starts after) is decided first, as Pacemaker assigns a resource's primaries first. A unit whose mandatory
    /// order cannot be met does not start. An anchor takes its pending INFINITY followers along when they all fit
    /// one node (Pacemaker counts their utilization with it), else goes alone. Each unit goes to its preferred node
    /// (a reserved failover target) when that works, else the best node, is preempted in, or is explained.
    /// </summary>
    /// <param name="preferred">A node to try first for the unit, and the reason to give for it.</param>
    public static void StartAll(Planner p, IEnumerable<int> pending, DecisionKind kind, Func<int, int> from, Func<int, string> context,
        Func<int[], (int Node, string Why)?>? preferred = null)
    {
        var s = p.S;
        var units = PendingUnits.Of(s, pending);
        var unitOf = new Dictionary<int, int>();
        for (var i = 0; i < units.Count; i++)
        {
            foreach (var vm in units[i])
                unitOf[vm] = i;
        }

        var visited = new bool[units.Count];
        var done = new bool[units.Count];
        for (var i = 0; i < units.Count; i++)
            Visit(i);
        return;

        void Visit(int i)
        {
            if (visited[i])
                return;
            visited[i] = true; // a cycle (the reader refuses them) would stop here instead of looping
            foreach (var vm in units[i])
            {
                foreach (var prerequisite in p.Prerequisites(vm))
                {
                    if (unitOf.TryGetValue(prerequisite, out var j))
                        Visit(j);
                }
            }

            if (!done[i])
                Process(i);
        }

        void Process(int i)
        {
            done[i] = true;
            var unit = units[i];
            if (p.OrderBlock(unit) is not null)
            {
                var reasons = p.Explain(unit);
                foreach (var vm in unit)
                    p.Unplaced(vm, reasons);
                return;
            }

            var (ready, waiting) = Followers(i);
            if (ready.Count + waiting.Count > 0)
            {
                // The node must suit every follower; those still waiting for something else come later, to it.
                int[] combined = [.. unit, .. ready.SelectMany(f => units[f])];
                int[] weighed = [.. combined, .. waiting.SelectMany(f => units[f])];
                var together = p.Choose(weighed, out var possibleTogether, allowed: weighed.Length == combined.Length ? null : n => p.F.Check(combined, n) is null);
                if (together >= 0)
                {
                    p.Place(combined, together);
                    var later = waiting.Count == 0 ? "" : $"; where {string.Join(", ", waiting.SelectMany(f => units[f]).Select(s.VmName))} can follow";
                    foreach (var vm in combined)
                        p.Record(vm, kind, from(vm), together, context(vm) + p.WhyChosen(combined, together, possibleTogether, vm) + later);
                    foreach (var f in ready)
                        done[f] = true;
                    p.FollowUp(unit);
                    return;
                }
            }

            var keeps = p.KeepsFollowers(unit);
            if (preferred?.Invoke(unit) is { } first && keeps?.Invoke(first.Node) != false && p.F.Check(unit, first.Node) is null && p.R.CanReserve(unit, first.Node))
            {
                p.Place(unit, first.Node);
                foreach (var vm in unit)
                    p.Record(vm, kind, from(vm), first.Node, context(vm) + first.Why);
                return;
            }

            var possible = 0;
            var node = keeps is null ? -1 : p.Choose(unit, out possible, allowed: keeps);
            if (node < 0)
                node = p.Choose(unit, out possible);
            if (node >= 0)
            {
                p.Place(unit, node);
                foreach (var vm in unit)
                    p.Record(vm, kind, from(vm), node, context(vm) + p.WhyChosen(unit, node, possible, vm));
                p.FollowUp(unit);
                return;
            }

            if (s.Policy.Preempt && unit.Length == 1 && p.TryPreempt(unit[0], kind, from(unit[0]), context(unit[0])))
            {
                p.FollowUp(unit);
                return;
            }

            var why = p.Explain(unit);
            foreach (var vm in unit)
                p.Unplaced(vm, why);
        }

        // Pending units that follow unit i by INFINITY on one node (transitively): ready ones (whose other
        // prerequisites are decided) go with it; the others wait, but the anchor's node must suit them too.
        (List<int> Ready, List<int> Waiting) Followers(int i)
        {
            var ready = new List<int>();
            var waiting = new List<int>();
            var members = new HashSet<int>(units[i]);
            var queue = new Queue<int>(units[i]);
            while (queue.Count > 0)
            {
                var anchor = queue.Dequeue();
                foreach (var f in s.Rules.AnchorOf[anchor])
                {
                    var follow = s.Rules.Follows[f];
                    if (follow.Score != Score.Infinity || !follow.NodeLevel || !unitOf.TryGetValue(follow.Dependent, out var j) || done[j] || ready.Contains(j) || waiting.Contains(j))
                        continue;
                    var unit = units[j];
                    var isReady = unit.All(vm => p.Prerequisites(vm).All(q => members.Contains(q) || unit.Contains(q) || !unitOf.TryGetValue(q, out var k) || done[k]));
                    if (isReady && p.OrderBlock([.. members, .. unit]) is null)
                        ready.Add(j);
                    else
                        waiting.Add(j);
                    foreach (var vm in unit)
                    {
                        members.Add(vm);
                        queue.Enqueue(vm);
                    }
                }
            }

            return (ready, waiting);
        }
    }
}
