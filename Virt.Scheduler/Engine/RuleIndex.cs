namespace Virt.Scheduler.Engine;

/// <summary>
/// Rules compiled for fast checks: each location expression evaluated once per node; colocation rules as per-zone
/// member counts (a zone is a node, or a value of the rule's node attribute); INFINITY colocations on one node joined
/// into groups (symmetric sets: all or none) and bonds (groups plus directed followers: what fails over and
/// evacuates as one); order rules as start prerequisites.
/// </summary>
internal sealed class RuleIndex
{
    private readonly ClusterState _state;
    private readonly Dictionary<string, Zones> _zones = new(StringComparer.Ordinal);

    public RuleIndex(ClusterState state, IReadOnlyList<PlacementRule> rules, DateTimeOffset? now)
    {
        _state = state;
        var vmCount = state.Vms.Length;
        NodeZones = new Zones(null, Enumerable.Range(0, state.Nodes.Length).ToArray(), state.Nodes.Select(n => n.Name).ToArray());
        var ordered = rules.OrderBy(r => r.Name, StringComparer.Ordinal).ToArray();
        var expressions = new ExpressionTable(state.Nodes, now);
        Location = ordered.OfType<LocationRule>().Select(r => new CompiledLocation(r, expressions.Evaluate(r.Expression))).ToArray();

        var apart = new List<ApartSet>();
        var soft = new List<SoftSet>();
        var follows = new List<Follow>();
        var same = new List<SameZone>();
        var parent = Enumerable.Range(0, vmCount).ToArray();
        var bondParent = Enumerable.Range(0, vmCount).ToArray();
        var together = new HashSet<int>(); // members of INFINITY groups
        foreach (var c in ordered.OfType<ColocationRule>())
        {
            var zones = ZonesOf(c.NodeAttribute);
            var members = c.Vms.Select(Vm).Distinct().ToArray();
            if (c.With is { } anchorName)
            {
                var anchor = Vm(anchorName);
                foreach (var dep in members)
                {
                    if (c.Score == Score.MinusInfinity)
                        apart.Add(new ApartSet(c, [dep, anchor], zones, 1, dep));
                    else
                        follows.Add(new Follow(c, dep, anchor, zones, c.Score));
                    if (c.Score == Score.Infinity && zones.Attribute is null)
                        Union(bondParent, dep, anchor);
                }

                continue;
            }

            if (c.Score == Score.MinusInfinity)
                apart.Add(new ApartSet(c, members, zones, c.AtMost ?? 1, -1));
            else if (c.Score != Score.Infinity)
                soft.Add(new SoftSet(c, members, zones, c.Score));
            else if (zones.Attribute is not null)
                same.Add(new SameZone(c, members, zones));
            else
            {
                foreach (var vm in members)
                {
                    Union(parent, vm, members[0]);
                    Union(bondParent, vm, members[0]);
                    together.Add(vm);
                }
            }
        }

        Apart = [.. apart];
        Soft = [.. soft];
        Follows = [.. follows];
        Same = [.. same];
        ApartCount = Apart.Select(a => new int[a.Zones.Count]).ToArray();
        SoftCount = Soft.Select(a => new int[a.Zones.Count]).ToArray();
        VmLocation = Index(vmCount, Location.Select(l => l.Rule.Vms.Select(Vm).Distinct().ToArray()));
        VmApart = Index(vmCount, Apart.Select(a => a.Members));
        VmSoft = Index(vmCount, Soft.Select(a => a.Members));
        VmFollows = Index(vmCount, Follows.Select(f => new[] { f.Dependent }));
        AnchorOf = Index(vmCount, Follows.Select(f => new[] { f.Anchor }));
        VmSame = Index(vmCount, Same.Select(s => s.Members));

        Group = Components(parent, together, out var groups);
        Groups = groups;
        var bonded = together.Concat(Follows.Where(f => f.Score == Score.Infinity && f.NodeLevel).SelectMany(f => new[] { f.Dependent, f.Anchor }));
        Bond = Components(bondParent, bonded, out _);

        // Failover keeps a VM bound by an INFINITY colocation by attribute within its zone.
        var bound = new Dictionary<int, List<Zones>>();
        void Bind(int vm, Zones zones)
        {
            if (!bound.TryGetValue(vm, out var list))
                bound[vm] = list = [];
            if (!list.Contains(zones))
                list.Add(zones);
        }

        foreach (var f in Follows.Where(f => f.Score == Score.Infinity && !f.NodeLevel))
        {
            Bind(f.Dependent, f.Zones);
            Bind(f.Anchor, f.Zones);
        }

        foreach (var s in Same)
        {
            foreach (var vm in s.Members)
                Bind(vm, s.Zones);
        }

        ZoneBound = new Zones[vmCount][];
        Array.Fill(ZoneBound, []);
        foreach (var (vm, list) in bound)
            ZoneBound[vm] = [.. list];

        HasNegative = new bool[vmCount];
        foreach (var l in Location.Where(l => l.Rule.Score is < 0 and > double.NegativeInfinity))
        {
            foreach (var vm in l.Rule.Vms)
                HasNegative[Vm(vm)] = true;
        }

        foreach (var set in Soft.Where(set => set.Score < 0))
        {
            foreach (var vm in set.Members)
                HasNegative[vm] = true;
        }

        foreach (var f in Follows.Where(f => f.Score is < 0 and > double.NegativeInfinity))
            HasNegative[f.Dependent] = true;

        var orders = new List<StartOrder>();
        foreach (var o in ordered.OfType<OrderRule>())
        {
            foreach (var then in o.Vms.SelectMany(state.Members).Distinct())
            {
                foreach (var first in o.StartAfter.SelectMany(state.Members).Distinct())
                {
                    if (first != then)
                        orders.Add(new StartOrder(o, then, first));
                }
            }
        }

        Orders = [.. orders];
        VmOrders = Index(vmCount, Orders.Select(o => new[] { o.Then }));
        FirstOf = Index(vmCount, Orders.Select(o => new[] { o.First }));
    }

    public Zones NodeZones { get; }

    public CompiledLocation[] Location { get; }

    public ApartSet[] Apart { get; }

    public SoftSet[] Soft { get; }

    public Follow[] Follows { get; }

    public SameZone[] Same { get; }

    public StartOrder[] Orders { get; }

    /// <summary>Per apart set and zone: how many of its VMs run there.</summary>
    public int[][] ApartCount { get; }

    /// <summary>Per soft set and zone: how many of its VMs run there.</summary>
    public int[][] SoftCount { get; }

    /// <summary>Per VM: indexes into <see cref="Location"/>.</summary>
    public int[][] VmLocation { get; }

    /// <summary>Per VM: the apart sets it is in (indexes into <see cref="Apart"/>).</summary>
    public int[][] VmApart { get; }

    /// <summary>Per VM: the finite symmetric colocations it is in.</summary>
    public int[][] VmSoft { get; }

    /// <summary>Per VM: the directed colocations (INFINITY or finite) it is the dependent of.</summary>
    public int[][] VmFollows { get; }

    /// <summary>Per VM: the directed colocations it is the anchor of.</summary>
    public int[][] AnchorOf { get; }

    /// <summary>Per VM: the symmetric INFINITY colocations by attribute it is in.</summary>
    public int[][] VmSame { get; }

    /// <summary>Per VM: order rules where it is the one that starts after (indexes into <see cref="Orders"/>).</summary>
    public int[][] VmOrders { get; }

    /// <summary>Per VM: order rules where others start after it.</summary>
    public int[][] FirstOf { get; }

    /// <summary>Per VM: its INFINITY colocation group (symmetric, one node), or -1.</summary>
    public int[] Group { get; }

    /// <summary>INFINITY colocation groups: VMs that run on one node or not at all.</summary>
    public int[][] Groups { get; }

    /// <summary>Per VM: its bond (group members and INFINITY followers on one node, transitively), or -1.</summary>
    public int[] Bond { get; }

    /// <summary>Per VM: zones (by attribute) it must stay within when it fails over.</summary>
    public Zones[][] ZoneBound { get; }

    /// <summary>Per VM: whether any of its finite scores is negative (only then can its total be).</summary>
    public bool[] HasNegative { get; }

    /// <summary>Per VM: counted in the zone counts (it runs on a live node; a VM listed on a dead node does not run).</summary>
    private bool[]? _counted;

    public void OnAssign(int vm, int node)
    {
        _counted ??= new bool[_state.Vms.Length];
        if (!_state.Alive[node])
            return;
        _counted[vm] = true;
        foreach (var r in VmApart[vm])
        {
            if (Apart[r].Zones.Of[node] is var z and >= 0)
                ApartCount[r][z]++;
        }

        foreach (var r in VmSoft[vm])
        {
            if (Soft[r].Zones.Of[node] is var z and >= 0)
                SoftCount[r][z]++;
        }
    }

    public void OnUnassign(int vm, int node)
    {
        if (_counted?[vm] != true)
            return;
        _counted[vm] = false;
        foreach (var r in VmApart[vm])
        {
            if (Apart[r].Zones.Of[node] is var z and >= 0)
                ApartCount[r][z]--;
        }

        foreach (var r in VmSoft[vm])
        {
            if (Soft[r].Zones.Of[node] is var z and >= 0)
                SoftCount[r][z]--;
        }
    }

    /// <summary>Sum of finite location and colocation scores for <paramref name="vm"/> on <paramref name="node"/>.</summary>
    public double Preference(int vm, int node) => LocationScore(vm, node) + ColocationScore(vm, node);

    public double LocationScore(int vm, int node)
    {
        double score = 0;
        foreach (var r in VmLocation[vm])
        {
            var rule = Location[r];
            if (double.IsFinite(rule.Rule.Score) && rule.Holds[node])
                score += rule.Rule.Score;
        }

        return score;
    }

    public double ColocationScore(int vm, int node)
    {
        double score = 0;
        foreach (var r in VmSoft[vm])
            score += Neighbours(r, vm, node) * Soft[r].Score;
        foreach (var f in VmFollows[vm])
        {
            if (WithAnchor(f, node))
                score += Follows[f].Score;
        }

        return score;
    }

    /// <summary>The terms of <see cref="Preference"/>, for explanations: "location prefer-ssd +100".</summary>
    public List<(string Term, double Score)> Terms(int vm, int node)
    {
        var terms = new List<(string, double)>();
        foreach (var r in VmLocation[vm])
        {
            var rule = Location[r].Rule;
            if (double.IsFinite(rule.Score) && rule.Score != 0 && Location[r].Holds[node])
                terms.Add(($"location {rule.Name}", rule.Score));
        }

        foreach (var r in VmSoft[vm])
        {
            var n = Neighbours(r, vm, node);
            if (n > 0 && Soft[r].Score != 0)
                terms.Add(($"colocation {Soft[r].Rule.Name}", n * Soft[r].Score));
        }

        foreach (var f in VmFollows[vm])
        {
            if (WithAnchor(f, node) && Follows[f].Score != 0)
                terms.Add(($"colocation {Follows[f].Rule.Name}", Follows[f].Score));
        }

        return terms;
    }

    /// <summary>Other members of soft set <paramref name="r"/> running in <paramref name="node"/>'s zone.</summary>
    private int Neighbours(int r, int vm, int node)
    {
        var zones = Soft[r].Zones.Of;
        var z = zones[node];
        if (z < 0)
            return 0;
        var at = _state.Location[vm];
        return SoftCount[r][z] - (at >= 0 && zones[at] == z ? 1 : 0);
    }

    /// <summary>Is the finite follow's anchor running in <paramref name="node"/>'s zone?</summary>
    private bool WithAnchor(int f, int node)
    {
        var follow = Follows[f];
        if (double.IsInfinity(follow.Score))
            return false;
        var at = _state.Location[follow.Anchor];
        return at >= 0 && _state.Alive[at] && follow.Zones.Of[node] is var z and >= 0 && follow.Zones.Of[at] == z;
    }

    private Zones ZonesOf(string? attribute)
    {
        if (attribute is null)
            return NodeZones;
        if (_zones.TryGetValue(attribute, out var zones))
            return zones;
        var names = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var of = new int[_state.Nodes.Length];
        for (var n = 0; n < of.Length; n++)
        {
            if (!_state.Nodes[n].Attributes.TryGetValue(attribute, out var value))
            {
                of[n] = -1;
                continue;
            }

            if (!index.TryGetValue(value, out var z))
            {
                index[value] = z = names.Count;
                names.Add(value);
            }

            of[n] = z;
        }

        return _zones[attribute] = new Zones(attribute, of, [.. names]);
    }

    private int Vm(string name) => _state.VmIndex[name];

    /// <summary>Per VM, the indexes of the items whose member list holds it (counted first: no list per VM).</summary>
    private static int[][] Index(int vmCount, IEnumerable<int[]> memberLists)
    {
        var lists = memberLists as IReadOnlyList<int[]> ?? memberLists.ToList();
        var counts = new int[vmCount];
        foreach (var members in lists)
        {
            foreach (var vm in members)
                counts[vm]++;
        }

        var index = new int[vmCount][];
        for (var vm = 0; vm < vmCount; vm++)
            index[vm] = counts[vm] == 0 ? [] : new int[counts[vm]];
        Array.Clear(counts);
        for (var i = 0; i < lists.Count; i++)
        {
            foreach (var vm in lists[i])
                index[vm][counts[vm]++] = i;
        }

        return index;
    }

    private static void Union(int[] parent, int a, int b) => parent[Find(parent, a)] = Find(parent, b);

    private static int Find(int[] parent, int x)
    {
        while (parent[x] != x)
            x = parent[x] = parent[parent[x]];
        return x;
    }

    /// <summary>Component index per VM (-1 outside <paramref name="members"/>), components ordered by their first VM.</summary>
    private static int[] Components(int[] parent, IEnumerable<int> members, out int[][] components)
    {
        var byRoot = new Dictionary<int, List<int>>();
        foreach (var vm in members.Distinct().Order())
        {
            var root = Find(parent, vm);
            if (!byRoot.TryGetValue(root, out var list))
                byRoot[root] = list = [];
            list.Add(vm);
        }

        components = byRoot.Values.Select(g => g.ToArray()).OrderBy(g => g[0]).ToArray();
        var of = new int[parent.Length];
        Array.Fill(of, -1);
        for (var g = 0; g < components.Length; g++)
        {
            foreach (var vm in components[g])
                of[vm] = g;
        }

        return of;
    }
}
