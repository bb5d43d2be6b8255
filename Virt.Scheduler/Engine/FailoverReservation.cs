namespace Virt.Scheduler.Engine;

/// <summary>
/// N+X as a failover map: every HA VM gets X distinct failover targets (other nodes it may restart on; it uses the
/// first that survives). On each target and dimension the capacity held back is the sum of the X largest loads
/// mapped there from any one source node. That is enough for any X nodes failing at once: each failed VM has a
/// surviving target (at most X-1 of its X targets failed with it) and what arrives at a target from at most X
/// sources cannot exceed what is held. Greedy and conservative: it may refuse what a perfect packer would accept,
/// never the reverse. Targets also respect the VM's hard rules. Anti-affinity holds after failures too: per apart set
/// and zone, the members running there plus what the X largest sources could send there stay within the set's limit
/// (so with X of 2 or more two VMs that must stay apart never share a target: both their nodes could fail at once).
/// </summary>
internal sealed class FailoverReservation
{
    private readonly ClusterState _s;
    private readonly int _x;
    private readonly int[]?[] _targets;
    private readonly int[] _source;
    private readonly Dictionary<int, double[]>[] _mapped;
    private readonly double[] _held;
    private readonly double[] _topValue;
    private readonly int[] _topSource;
    /// <summary>Per apart set: zone -> source node -> members of the set with a failover target in that zone.</summary>
    private readonly Dictionary<int, Dictionary<int, int>>?[] _arrivals;
    private readonly bool[] _protected;

    /// <summary>Per apart set and zone: the sum over sources of <see cref="_arrivals"/> (zero means nothing to look up).</summary>
    private readonly int[]?[] _arrivalTotal;
    private Feasibility? _feasibility;
    private int _cursor;

    public FailoverReservation(ClusterState s)
    {
        _s = s;
        _x = s.ReserveFailures;
        _targets = new int[]?[s.Vms.Length];
        _source = new int[s.Vms.Length];
        _mapped = s.Nodes.Select(_ => new Dictionary<int, double[]>()).ToArray();
        _held = new double[s.Nodes.Length * s.D];
        _topValue = new double[s.Nodes.Length * s.D * Math.Max(1, _x)];
        _topSource = new int[_topValue.Length];
        Array.Fill(_topSource, -1);
        _arrivals = new Dictionary<int, Dictionary<int, int>>?[s.Rules.Apart.Length];
        _arrivalTotal = new int[]?[s.Rules.Apart.Length];
        _protected = new bool[s.Vms.Length];
        var known = new bool[s.Vms.Length];
        for (var v = 0; v < s.Vms.Length; v++)
            Protectable(v);

        bool Protectable(int v)
        {
            if (known[v])
                return _protected[v];
            known[v] = true; // the reader refuses cycles; this only stops one from looping
            _protected[v] = s.Vms[v].Ha;
            foreach (var f in s.Rules.VmFollows[v])
            {
                if (s.Rules.Follows[f].Score == Score.Infinity && !Protectable(s.Rules.Follows[f].Anchor))
                    _protected[v] = false;
            }

            return _protected[v];
        }
    }

    public int Failures => _x;

    public void Attach(Feasibility feasibility) => _feasibility = feasibility;

    public double Held(int node, int dim) => _x == 0 ? 0 : _held[(node * _s.D) + dim];

    public int[]? TargetsOf(int vm) => _targets[vm];

    /// <summary>
    /// An HA VM needs failover targets, unless it follows (by INFINITY, transitively) an anchor that is not HA: that
    /// anchor is not restarted, so neither can it be, and no room is held for it.
    /// </summary>
    public bool Needs(int vm) => _x > 0 && _protected[vm];

    /// <summary>Reserves targets for every HA VM already running, by priority; the ones that get none stay uncovered.</summary>
    public void ReserveExisting()
    {
        if (_x == 0)
            return;
        foreach (var unit in Units(Enumerable.Range(0, _s.Vms.Length).Where(v => _s.Location[v] >= 0 && _s.Alive[_s.Location[v]] && Needs(v))))
            TryReserve(unit, _s.Location[unit[0]]);
    }

    /// <summary>Groups VMs by (bond, node) so VMs tied by INFINITY colocations fail over and move as one; ordered by priority then name.</summary>
    public List<int[]> Units(IEnumerable<int> vms)
    {
        var units = new List<int[]>();
        Dictionary<(int Group, int Node), List<int>>? groups = null;
        foreach (var vm in vms)
        {
            var g = _s.Rules.Bond[vm];
            if (g < 0)
            {
                units.Add([vm]);
                continue;
            }

            groups ??= new Dictionary<(int, int), List<int>>();
            if (!groups.TryGetValue((g, _s.Location[vm]), out var members))
                groups[(g, _s.Location[vm])] = members = [];
            members.Add(vm);
        }

        if (groups is not null)
            units.AddRange(groups.Values.Select(m => m.Order().ToArray()));

        // VM indexes follow name order, so the first member orders ties by name.
        var priority = units.Select(u => u.Max(v => _s.Vms[v].Priority)).ToArray();
        var order = Enumerable.Range(0, units.Count).ToArray();
        Array.Sort(order, (a, b) => priority[a] != priority[b] ? priority[b].CompareTo(priority[a]) : units[a][0].CompareTo(units[b][0]));
        return order.Select(i => units[i]).ToList();
    }

    /// <summary>
    /// Finds and holds X targets for <paramref name="unit"/> (HA VMs on <paramref name="source"/>). A bond fails over
    /// as one, so bond-mates already on the node are planned again with it (and keep new targets of their own if
    /// the whole bond gets none). Nothing changes for the unit when it returns false. Targets are tried round-robin
    /// from a moving cursor, which spreads the held capacity over the cluster.
    /// </summary>
    public bool TryReserve(int[] unit, int source)
    {
        if (!unit.All(Needs))
            unit = unit.Where(Needs).ToArray();
        if (unit.Length == 0)
            return true;
        var mates = BondMates(unit, source);
        if (mates.Length == 0)
            return Reserve(unit, source);
        foreach (var m in mates)
            Release(m);
        if (Reserve([.. unit, .. mates], source))
            return true;
        Reserve(mates, source);
        return false;
    }

    private bool Reserve(int[] unit, int source)
    {
        var demand = _s.DemandOf(unit);
        var chosen = new List<int>(_x);
        var n = _s.Nodes.Length;
        for (var k = 0; k < n && chosen.Count < _x; k++)
        {
            var t = (_cursor + k) % n;
            if (Valid(unit, source, t, demand))
                chosen.Add(t);
        }

        if (chosen.Count < _x)
            return false;
        _cursor = (chosen[^1] + 1) % n;
        foreach (var t in chosen)
            Add(t, source, demand);
        foreach (var vm in unit)
        {
            _targets[vm] = [.. chosen];
            _source[vm] = source;
            CountArrivals(vm, +1);
        }

        return true;
    }

    /// <summary>Would <paramref name="unit"/> get targets if placed on <paramref name="source"/> (with its bond-mates there)? Nothing is held.</summary>
    public bool CanReserve(int[] unit, int source)
    {
        if (!unit.All(Needs))
            unit = unit.Where(Needs).ToArray();
        if (unit.Length == 0)
            return true;
        var mates = BondMates(unit, source);
        int[] all = mates.Length == 0 ? unit : [.. unit, .. mates];
        var demand = _s.DemandOf(unit);
        var whole = mates.Length == 0 ? demand : _s.DemandOf(all);
        var found = 0;
        for (var t = 0; t < _s.Nodes.Length && found < _x; t++)
        {
            // Where the mates already hold room, only the unit's own demand is new.
            var held = mates.Length > 0 && _targets[mates[0]]?.Contains(t) == true;
            if (Valid(all, source, t, held ? demand : whole))
                found++;
        }

        return found == _x;
    }

    /// <summary>HA VMs of the unit's bond already on <paramref name="source"/>, outside the unit.</summary>
    private int[] BondMates(int[] unit, int source)
    {
        var g = _s.Rules.Bond[unit[0]];
        if (g < 0 || source < 0)
            return [];
        List<int>? mates = null;
        foreach (var vm in _s.Residents[source])
        {
            if (_s.Rules.Bond[vm] == g && Needs(vm) && !unit.Contains(vm))
                (mates ??= []).Add(vm);
        }

        return mates is null ? [] : [.. mates.Order()];
    }

    /// <summary>Gives back what <paramref name="vm"/> holds; call before it moves or stops.</summary>
    public void Release(int vm)
    {
        if (_targets[vm] is not { } targets)
            return;
        var source = _source[vm];
        foreach (var t in targets)
        {
            var load = _mapped[t][source];
            for (var d = 0; d < _s.D; d++)
                load[d] -= _s.Demand[(vm * _s.D) + d];
            if (load.All(x => x <= 1e-9))
                _mapped[t].Remove(source);
            for (var d = 0; d < _s.D; d++)
            {
                // Only a source among the top X can change what is held.
                var i = (t * _s.D) + d;
                if (Array.IndexOf(_topSource, source, i * _x, _x) >= 0)
                    SetTop(i, _mapped[t].Select(kv => (kv.Value[d], kv.Key)).ToList());
            }
        }

        CountArrivals(vm, -1);
        _targets[vm] = null;
    }

    /// <summary>A node stopped taking VMs: everything that would have restarted there looks for another target.</summary>
    public void RetargetAwayFrom(int node)
    {
        if (_x == 0)
            return;
        var affected = Enumerable.Range(0, _s.Vms.Length).Where(v => _targets[v]?.Contains(node) == true).ToList();
        foreach (var vm in affected)
            Release(vm);
        foreach (var unit in Units(affected))
            TryReserve(unit, _s.Location[unit[0]]);
    }

    /// <summary>
    /// After a VM was placed on <paramref name="node"/> ignoring the reservation: if the node now runs into what it
    /// holds, the VMs that would restart there look for other targets; if an apart set's zone there could now take
    /// more members than its limit after failures, the members that would restart in that zone do. Those that find
    /// none are uncovered.
    /// </summary>
    public void Repair(int node)
    {
        if (_x == 0)
            return;
        var affected = new HashSet<int>();
        if (Overfull(node))
            affected.UnionWith(Enumerable.Range(0, _s.Vms.Length).Where(v => _targets[v]?.Contains(node) == true));
        foreach (var vm in _s.Residents[node])
        {
            foreach (var r in _s.Rules.VmApart[vm])
            {
                var set = _s.Rules.Apart[r];
                var zone = set.Zones.Of[node];
                if (zone < 0 || !Conflicts(r, [vm], zone))
                    continue;
                affected.UnionWith(set.Members.Where(m => m != vm && _targets[m]?.Any(t => set.Zones.Of[t] == zone) == true));
            }
        }

        if (affected.Count == 0)
            return;
        foreach (var vm in affected)
            Release(vm);
        foreach (var unit in Units(affected))
            TryReserve(unit, _s.Location[unit[0]]);
    }

    private bool Overfull(int node)
    {
        for (var d = 0; d < _s.D; d++)
        {
            var i = (node * _s.D) + d;
            if (_s.Used[i] + _held[i] > _s.Capacity[i] + 1e-9)
                return true;
        }

        return false;
    }

    /// <summary>
    /// Would placing <paramref name="unit"/> on <paramref name="node"/> break an apart set's limit once VMs fail over
    /// into that zone? (Members running there, plus the unit, plus what the X largest sources send there.)
    /// </summary>
    public Rejection? ApartConflict(ReadOnlySpan<int> unit, int node)
    {
        if (_x == 0)
            return null;
        foreach (var vm in unit)
        {
            foreach (var r in _s.Rules.VmApart[vm])
            {
                var set = _s.Rules.Apart[r];
                var zone = set.Zones.Of[node];
                if (zone < 0 || !Conflicts(r, unit, zone))
                    continue;
                var other = -1;
                foreach (var o in set.Members)
                {
                    if (!unit.Contains(o) && _targets[o]?.Any(t => set.Zones.Of[t] == zone) == true)
                    {
                        other = o;
                        break;
                    }
                }

                return new Rejection(RejectionKind.ApartFailoverTarget, vm, node, Rule: r, Other: other);
            }
        }

        return null;
    }

    /// <summary>Would members of apart set <paramref name="r"/> in <paramref name="zone"/> (with <paramref name="unit"/> there) exceed its limit once the X largest sources fail over into it?</summary>
    private bool Conflicts(int r, ReadOnlySpan<int> unit, int zone)
    {
        if (_arrivalTotal[r] is not { } totals || totals[zone] == 0)
            return false;
        var set = _s.Rules.Apart[r];
        var (arriving, alreadyThere) = Arriving(set, unit, zone);
        return _s.Rules.ApartCount[r][zone] - alreadyThere + arriving + ArrivalBound(r, zone, unit, -1, 0) > set.Limit;
    }

    /// <summary>How many of <paramref name="unit"/> are in the set, and how many of those already run in <paramref name="zone"/>.</summary>
    private (int Arriving, int AlreadyThere) Arriving(ApartSet set, ReadOnlySpan<int> unit, int zone)
    {
        int arriving = 0, there = 0;
        foreach (var m in unit)
        {
            if (Array.IndexOf(set.Members, m) < 0)
                continue;
            arriving++;
            if (_s.Location[m] is var at and >= 0 && set.Zones.Of[at] == zone)
                there++;
        }

        return (arriving, there);
    }

    /// <summary>
    /// The most members of apart set <paramref name="r"/> that X failing sources could send to <paramref name="zone"/>:
    /// the sum of the X largest per-source counts, leaving out <paramref name="unit"/>'s own and adding
    /// <paramref name="extra"/> for <paramref name="source"/>.
    /// </summary>
    private int ArrivalBound(int r, int zone, ReadOnlySpan<int> unit, int source, int extra)
    {
        Span<int> top = stackalloc int[_x];
        top.Clear();
        var sawSource = false;
        if (_arrivals[r]?.GetValueOrDefault(zone) is { } bySource)
        {
            var zones = _s.Rules.Apart[r].Zones.Of;
            foreach (var (src, count) in bySource)
            {
                var c = count;
                foreach (var m in unit)
                {
                    if (_source[m] == src && _targets[m] is { } t && Array.IndexOf(_s.Rules.VmApart[m], r) >= 0 && t.Any(x => zones[x] == zone))
                        c--;
                }

                if (src == source)
                {
                    c += extra;
                    sawSource = true;
                }

                Insert(top, c);
            }
        }

        if (!sawSource && extra > 0)
            Insert(top, extra);
        var sum = 0;
        foreach (var c in top)
            sum += c;
        return sum;

        static void Insert(Span<int> top, int c)
        {
            for (var k = 0; k < top.Length; k++)
            {
                if (c <= top[k])
                    continue;
                (top[k], c) = (c, top[k]);
            }
        }
    }

    private void CountArrivals(int vm, int delta)
    {
        if (_targets[vm] is not { } targets)
            return;
        foreach (var r in _s.Rules.VmApart[vm])
        {
            var zones = _s.Rules.Apart[r].Zones.Of;
            var byZone = _arrivals[r] ??= new Dictionary<int, Dictionary<int, int>>();
            for (var k = 0; k < targets.Length; k++)
            {
                var zone = zones[targets[k]];
                if (zone < 0 || Array.IndexOf(targets, targets.First(t => zones[t] == zone)) != k)
                    continue; // each zone once per VM
                if (!byZone.TryGetValue(zone, out var bySource))
                    byZone[zone] = bySource = new Dictionary<int, int>();
                (_arrivalTotal[r] ??= new int[_s.Rules.Apart[r].Zones.Count])[zone] += delta;
                var count = bySource.GetValueOrDefault(_source[vm]) + delta;
                if (count == 0)
                    bySource.Remove(_source[vm]);
                else
                    bySource[_source[vm]] = count;
                if (bySource.Count == 0)
                    byZone.Remove(zone);
            }
        }
    }

    /// <summary>HA VMs on live nodes without targets.</summary>
    public List<int> Uncovered() =>
        _x == 0 ? [] : Enumerable.Range(0, _s.Vms.Length).Where(v => Needs(v) && _s.Location[v] >= 0 && _s.Alive[_s.Location[v]] && _targets[v] is null).ToList();

    public ReservationReport Report()
    {
        if (_x == 0)
            return new ReservationReport(0, true, "no reservation asked for (reserve_failures 0)");
        var uncovered = Uncovered();
        var covered = Enumerable.Range(0, _s.Vms.Length).Count(v => _targets[v] is not null);
        var overfull = Enumerable.Range(0, _s.Nodes.Length).Where(n => _s.Accepting[n] && Overfull(n)).ToList();
        if (overfull.Count > 0)
            return new ReservationReport(_x, false, $"{string.Join(", ", overfull.Select(_s.NodeName))} run{(overfull.Count == 1 ? "s" : "")} into capacity held for failover");
        if (uncovered.Count == 0)
            return new ReservationReport(_x, true, $"every running HA VM ({covered}) has {_x} failover target{(_x > 1 ? "s" : "")} with room held; any {_x} node failure{(_x > 1 ? "s" : "")} can be absorbed");
        var sample = string.Join(", ", uncovered.Take(5).Select(v => $"{_s.VmName(v)} on {_s.NodeName(_s.Location[v])}"));
        var alive = _s.Alive.Count(a => a);
        var why = alive <= _x ? $"only {alive} node(s) are up" : "no other node has room for them, within their rules";
        return new ReservationReport(_x, false, $"{uncovered.Count} HA VM(s) could not be restarted if their node failed: {sample}{(uncovered.Count > 5 ? ", ..." : "")} ({why})");
    }

    public IReadOnlyDictionary<string, IReadOnlyList<string>> TargetsByVm()
    {
        // Many VMs share a target list; share the list objects too.
        var lists = new Dictionary<(int, int), IReadOnlyList<string>>();
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        for (var v = 0; v < _s.Vms.Length; v++)
        {
            if (_targets[v] is not { } t)
                continue;
            var key = (t[0], t.Length > 1 ? t[1] : -1);
            if (t.Length > 2 || !lists.TryGetValue(key, out var names))
            {
                names = t.Select(_s.NodeName).ToArray();
                if (t.Length <= 2)
                    lists[key] = names;
            }

            result[_s.VmName(v)] = names;
        }

        return result;
    }

    private bool Valid(int[] unit, int source, int t, double[] demand)
    {
        if (t == source || !_s.Accepting[t])
            return false;
        foreach (var vm in unit)
        {
            if (_feasibility!.Rules(vm, t, unit, failover: true, source: source) is not null)
                return false;
            foreach (var r in _s.Rules.VmApart[vm])
            {
                var set = _s.Rules.Apart[r];
                var zone = set.Zones.Of[t];
                if (zone < 0)
                    continue;
                var (arriving, alreadyThere) = Arriving(set, unit, zone);
                if (_s.Rules.ApartCount[r][zone] - alreadyThere + ArrivalBound(r, zone, unit, source, arriving) > set.Limit)
                    return false;
            }
        }

        return Fits(t, source, demand);
    }

    /// <summary>Does <paramref name="t"/> still fit everything it runs plus what it holds, with this source's load raised by <paramref name="demand"/>?</summary>
    private bool Fits(int t, int source, double[] demand)
    {
        var current = _mapped[t].GetValueOrDefault(source);
        for (var d = 0; d < _s.D; d++)
        {
            if (demand[d] <= 0)
                continue;
            var raised = (current?[d] ?? 0) + demand[d];
            var i = (t * _s.D) + d;
            if (_s.Used[i] + HeldWith(i, source, raised) > _s.Capacity[i] + 1e-9)
                return false;
        }

        return true;
    }

    /// <summary>Sum of the X largest per-source loads at slot <paramref name="i"/> if <paramref name="source"/>'s load became <paramref name="value"/> (a raise).</summary>
    private double HeldWith(int i, int source, double value)
    {
        Span<double> top = stackalloc double[_x + 1];
        var count = 0;
        var baseIndex = i * _x;
        for (var k = 0; k < _x; k++)
        {
            if (_topSource[baseIndex + k] >= 0 && _topSource[baseIndex + k] != source)
                top[count++] = _topValue[baseIndex + k];
        }

        top[count++] = value;
        top[..count].Sort();
        double sum = 0;
        for (var k = count - 1; k >= Math.Max(0, count - _x); k--)
            sum += top[k];
        return sum;
    }

    private void Add(int t, int source, double[] demand)
    {
        if (!_mapped[t].TryGetValue(source, out var load))
            _mapped[t][source] = load = new double[_s.D];
        for (var d = 0; d < _s.D; d++)
        {
            load[d] += demand[d];
            Promote((t * _s.D) + d, source, load[d]);
        }
    }

    /// <summary>Keeps the top-X list of slot <paramref name="i"/> after <paramref name="source"/>'s load rose to <paramref name="value"/>.</summary>
    private void Promote(int i, int source, double value)
    {
        // Insert (value, source) into the slot's descending top-X list, replacing source's old entry if present.
        var b = i * _x;
        var existing = Array.IndexOf(_topSource, source, b, _x);
        if (existing >= 0)
        {
            for (var k = existing; k < b + _x - 1; k++)
            {
                _topValue[k] = _topValue[k + 1];
                _topSource[k] = _topSource[k + 1];
            }

            _topValue[b + _x - 1] = 0;
            _topSource[b + _x - 1] = -1;
        }

        var at = b;
        while (at < b + _x && _topSource[at] >= 0 && (_topValue[at] > value || (_topValue[at] == value && _topSource[at] < source)))
            at++;
        if (at < b + _x)
        {
            for (var k = b + _x - 1; k > at; k--)
            {
                _topValue[k] = _topValue[k - 1];
                _topSource[k] = _topSource[k - 1];
            }

            _topValue[at] = value;
            _topSource[at] = source;
        }

        double held = 0;
        for (var k = b; k < b + _x; k++)
            held += _topSource[k] >= 0 ? _topValue[k] : 0;
        _held[i] = held;
    }

    private void SetTop(int i, List<(double Value, int Source)> entries)
    {
        entries.Sort((a, b) => b.Value != a.Value ? b.Value.CompareTo(a.Value) : a.Source.CompareTo(b.Source));
        var b = i * _x;
        double held = 0;
        for (var k = 0; k < _x; k++)
        {
            if (k < entries.Count)
            {
                _topValue[b + k] = entries[k].Value;
                _topSource[b + k] = entries[k].Source;
                held += entries[k].Value;
            }
            else
            {
                _topValue[b + k] = 0;
                _topSource[b + k] = -1;
            }
        }

        _held[i] = held;
    }
}
