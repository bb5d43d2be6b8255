namespace Virt.Scheduler.Engine;

/// <summary>
/// Rules compiled for fast checks: each location expression evaluated once per node; colocation rules as
/// per-node member counts; INFINITY colocation rules joined into groups (a VM in two such rules ties both sets).
/// </summary>
internal sealed class RuleIndex
{
    private readonly ClusterState _state;

    public RuleIndex(ClusterState state, IReadOnlyList<PlacementRule> rules)
    {
        _state = state;
        var vmCount = state.Vms.Length;
        var nodeCount = state.Nodes.Length;
        var location = new List<int>[vmCount];
        var apart = new List<int>[vmCount];
        var soft = new List<int>[vmCount];
        var ordered = rules.OrderBy(r => r.Name, StringComparer.Ordinal).ToArray();
        var expressions = new ExpressionTable(state.Nodes);
        Location = ordered.OfType<LocationRule>().Select(r => new CompiledLocation(r, expressions.Evaluate(r.Expression))).ToArray();
        Colocation = ordered.OfType<ColocationRule>().ToArray();
        MemberCount = Colocation.Select(_ => new int[nodeCount]).ToArray();

        for (var i = 0; i < Location.Length; i++)
        {
            foreach (var vm in Location[i].Rule.Vms)
                (location[state.VmIndex[vm]] ??= []).Add(i);
        }

        var parent = Enumerable.Range(0, vmCount).ToArray();
        int Find(int x) => parent[x] == x ? x : parent[x] = Find(parent[x]);
        for (var i = 0; i < Colocation.Length; i++)
        {
            var members = Colocation[i].Vms.Select(v => state.VmIndex[v]).Distinct().ToArray();
            foreach (var vm in members)
            {
                if (Colocation[i].Score == Score.MinusInfinity)
                    (apart[vm] ??= []).Add(i);
                else if (Colocation[i].Score != Score.Infinity)
                    (soft[vm] ??= []).Add(i);
            }

            if (Colocation[i].Score == Score.Infinity)
            {
                foreach (var vm in members.Skip(1))
                    parent[Find(vm)] = Find(members[0]);
                foreach (var vm in members)
                    (TogetherRules ??= new Dictionary<int, List<int>>()).TryAdd(vm, []);
                foreach (var vm in members)
                    TogetherRules![vm].Add(i);
            }
        }

        VmLocation = location.Select(l => l?.ToArray() ?? []).ToArray();
        VmApart = apart.Select(l => l?.ToArray() ?? []).ToArray();
        VmSoft = soft.Select(l => l?.ToArray() ?? []).ToArray();
        Group = new int[vmCount];
        Array.Fill(Group, -1);
        var groups = new Dictionary<int, List<int>>();
        if (TogetherRules is not null)
        {
            foreach (var vm in TogetherRules.Keys.Order())
            {
                var root = Find(vm);
                if (!groups.TryGetValue(root, out var list))
                    groups[root] = list = [];
                list.Add(vm);
            }
        }

        Groups = groups.Values.Select(g => g.Order().ToArray()).OrderBy(g => g[0]).ToArray();
        for (var g = 0; g < Groups.Length; g++)
        {
            foreach (var vm in Groups[g])
                Group[vm] = g;
        }
    }

    public CompiledLocation[] Location { get; }

    public ColocationRule[] Colocation { get; }

    /// <summary>Per colocation rule and node: how many of its VMs run there.</summary>
    public int[][] MemberCount { get; }

    /// <summary>Per VM: indexes into <see cref="Location"/>.</summary>
    public int[][] VmLocation { get; }

    /// <summary>Per VM: -INFINITY colocation rules (indexes into <see cref="Colocation"/>).</summary>
    public int[][] VmApart { get; }

    /// <summary>Per VM: finite colocation rules.</summary>
    public int[][] VmSoft { get; }

    /// <summary>Per VM: its INFINITY colocation group, or -1.</summary>
    public int[] Group { get; }

    /// <summary>INFINITY colocation groups: VMs that run on one node or not at all.</summary>
    public int[][] Groups { get; }

    /// <summary>Per VM in a group: the INFINITY rules that put it there.</summary>
    public Dictionary<int, List<int>>? TogetherRules { get; private set; }

    public void OnAssign(int vm, int node)
    {
        foreach (var r in VmApart[vm])
            MemberCount[r][node]++;
        foreach (var r in VmSoft[vm])
            MemberCount[r][node]++;
    }

    public void OnUnassign(int vm, int node)
    {
        foreach (var r in VmApart[vm])
            MemberCount[r][node]--;
        foreach (var r in VmSoft[vm])
            MemberCount[r][node]--;
    }

    /// <summary>Sum of finite location and colocation scores for <paramref name="vm"/> on <paramref name="node"/>.</summary>
    public double Preference(int vm, int node)
    {
        double score = 0;
        foreach (var r in VmLocation[vm])
        {
            var rule = Location[r];
            if (double.IsFinite(rule.Rule.Score) && rule.Holds[node])
                score += rule.Rule.Score;
        }

        foreach (var r in VmSoft[vm])
        {
            var others = MemberCount[r][node] - (_state.Location[vm] == node ? 1 : 0);
            score += others * Colocation[r].Score;
        }

        return score;
    }

    internal sealed record CompiledLocation(LocationRule Rule, bool[] Holds);
}
