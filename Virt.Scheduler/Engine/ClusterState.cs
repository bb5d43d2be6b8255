namespace Virt.Scheduler.Engine;

/// <summary>
/// The engine's working copy of a snapshot, indexed for speed: nodes and VMs by position (sorted by name, so every
/// loop is deterministic), capacity and usage as flat arrays (<c>node * Dims + dim</c>).
/// Only <see cref="Assign"/> and <see cref="Unassign"/> change who runs where.
/// </summary>
internal sealed class ClusterState
{
    public ClusterState(PlacementProblem problem)
    {
        Policy = problem.Policy ?? new PlacementPolicy();
        ReserveFailures = problem.ReserveFailures;
        Nodes = problem.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal).ToArray();
        Vms = problem.Vms.OrderBy(v => v.Name, StringComparer.Ordinal).ToArray();
        Dims = Nodes.SelectMany(n => n.Capacity.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        D = Dims.Length;
        NodeIndex = Nodes.Select((n, i) => (n.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        VmIndex = Vms.Select((v, i) => (v.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);

        Capacity = new double[Nodes.Length * D];
        Used = new double[Nodes.Length * D];
        Demand = new double[Vms.Length * D];
        for (var n = 0; n < Nodes.Length; n++)
        {
            for (var d = 0; d < D; d++)
            {
                var ratio = problem.Overcommit?.GetValueOrDefault(Dims[d], 1.0) ?? 1.0;
                Capacity[(n * D) + d] = Nodes[n].Capacity.GetValueOrDefault(Dims[d]) * ratio;
            }
        }

        for (var v = 0; v < Vms.Length; v++)
        {
            for (var d = 0; d < D; d++)
                Demand[(v * D) + d] = Vms[v].Demand.GetValueOrDefault(Dims[d]);
        }

        Accepting = Nodes.Select(n => n.State == NodeState.Up).ToArray();
        Alive = Nodes.Select(n => n.State is NodeState.Up or NodeState.Draining).ToArray();
        Residents = Nodes.Select(_ => new List<int>()).ToArray();
        Location = new int[Vms.Length];
        Array.Fill(Location, -1);
        for (var v = 0; v < Vms.Length; v++)
        {
            if (Vms[v].Group is { } g)
            {
                if (!StartGroups.TryGetValue(g, out var members))
                    StartGroups[g] = members = [];
                members.Add(v);
            }
        }

        Rules = new RuleIndex(this, problem.Rules, problem.Now);
        for (var v = 0; v < Vms.Length; v++)
        {
            if (Vms[v].Node is { } node)
                Assign(v, NodeIndex[node]);
        }
    }

    public PlacementPolicy Policy { get; }

    public int ReserveFailures { get; }

    public NodeSpec[] Nodes { get; }

    public VmSpec[] Vms { get; }

    public string[] Dims { get; }

    /// <summary>Number of dimensions.</summary>
    public int D { get; }

    public Dictionary<string, int> NodeIndex { get; }

    public Dictionary<string, int> VmIndex { get; }

    /// <summary>Effective capacity (after overcommit), <c>node * D + dim</c>.</summary>
    public double[] Capacity { get; }

    public double[] Used { get; }

    public double[] Demand { get; }

    /// <summary>Node takes new VMs (up, not being evacuated, not failed).</summary>
    public bool[] Accepting { get; }

    /// <summary>Node runs VMs and could fail (up or draining).</summary>
    public bool[] Alive { get; }

    public List<int>[] Residents { get; }

    /// <summary>Node index of each VM, or -1 when not running.</summary>
    public int[] Location { get; }

    public RuleIndex Rules { get; }

    /// <summary>Start-order groups by name: their VMs, in index order.</summary>
    public Dictionary<string, List<int>> StartGroups { get; } = new(StringComparer.Ordinal);

    /// <summary>Bumped by every change of who runs where or which nodes accept VMs (cache key).</summary>
    public int Version { get; private set; }

    /// <summary>The VMs an order rule means by <paramref name="name"/>: that VM, or the members of that start-order group.</summary>
    public IEnumerable<int> Members(string name) =>
        VmIndex.TryGetValue(name, out var vm) ? [vm] : StartGroups.TryGetValue(name, out var members) ? members : [];

    /// <summary>The node stops taking VMs (evacuated or failed); <paramref name="dead"/>: it runs nothing any more either.</summary>
    public void Close(int node, bool dead = false)
    {
        Accepting[node] = false;
        if (dead)
            Alive[node] = false;
        Version++;
    }

    public int MigrationThreshold(int vm) => Vms[vm].MigrationThreshold ?? Policy.MigrationThreshold;

    public double FailureTimeout(int vm) => Vms[vm].FailureTimeoutSeconds ?? Policy.FailureTimeoutSeconds;

    public void Assign(int vm, int node)
    {
        if (Location[vm] >= 0)
            throw new InvalidOperationException($"{Vms[vm].Name} is already on {Nodes[Location[vm]].Name}");
        Location[vm] = node;
        Version++;
        Residents[node].Add(vm);
        for (var d = 0; d < D; d++)
            Used[(node * D) + d] += Demand[(vm * D) + d];
        Rules.OnAssign(vm, node);
    }

    public void Unassign(int vm)
    {
        var node = Location[vm];
        if (node < 0)
            return;
        Location[vm] = -1;
        Version++;
        Residents[node].Remove(vm);
        for (var d = 0; d < D; d++)
            Used[(node * D) + d] -= Demand[(vm * D) + d];
        Rules.OnUnassign(vm, node);
    }

    /// <summary>Mean of used/capacity over the dimensions the node has, after adding <paramref name="extra"/> (may be negative).</summary>
    public double Load(int node, ReadOnlySpan<double> extra = default)
    {
        double sum = 0;
        var counted = 0;
        for (var d = 0; d < D; d++)
        {
            var cap = Capacity[(node * D) + d];
            if (cap <= 0)
                continue;
            sum += (Used[(node * D) + d] + (extra.IsEmpty ? 0 : extra[d])) / cap;
            counted++;
        }

        return counted == 0 ? 0 : sum / counted;
    }

    /// <summary>Sum of squared per-dimension utilisation, the spread measure rebalancing works on.</summary>
    public double Spread(int node, ReadOnlySpan<double> extra = default)
    {
        double sum = 0;
        for (var d = 0; d < D; d++)
        {
            var cap = Capacity[(node * D) + d];
            if (cap <= 0)
                continue;
            var u = (Used[(node * D) + d] + (extra.IsEmpty ? 0 : extra[d])) / cap;
            sum += u * u;
        }

        return sum / Math.Max(1, D);
    }

    /// <summary>Total demand of <paramref name="unit"/>, per dimension.</summary>
    public double[] DemandOf(ReadOnlySpan<int> unit)
    {
        var total = new double[D];
        foreach (var v in unit)
        {
            for (var d = 0; d < D; d++)
                total[d] += Demand[(v * D) + d];
        }

        return total;
    }

    public string NodeName(int node) => Nodes[node].Name;

    public string VmName(int vm) => Vms[vm].Name;
}
