using System.Globalization;

namespace Virt.Scheduler.Engine;

internal enum RejectionKind
{
    NodeState,
    Evacuating,
    Failed,
    LocationForbids,
    LocationRequires,
    Apart,
    ApartWithinUnit,
    Together,
    FollowNotRunning,
    FollowElsewhere,
    FollowFailover,
    AnchorHeld,
    SameZone,
    ZoneFailover,
    NegativeScore,
    OrderBlocked,
    Failures,
    Capacity,
    Reserved,
    ApartFailoverTarget,
    NoFailoverTarget,
}

/// <summary>Why a VM (or group) cannot go to one node. Cheap to make; turned into text only when reported.</summary>
/// <param name="Rule">Index into the compiled rules of the kind (location, apart set, follow, same zone, order).</param>
internal readonly record struct Rejection(RejectionKind Kind, int Vm, int Node, int Rule = -1, int Other = -1, int Dim = -1, double Need = 0, double Free = 0, double Held = 0)
{
    public string Describe(ClusterState s)
    {
        var rules = s.Rules;
        return Kind switch
        {
            RejectionKind.NodeState => s.Nodes[Node].State.ToString().ToLowerInvariant(),
            RejectionKind.Evacuating => "being evacuated",
            RejectionKind.Failed => "failed",
            RejectionKind.LocationForbids => $"rule {rules.Location[Rule].Rule.Name} (-INFINITY)",
            RejectionKind.LocationRequires => $"rule {rules.Location[Rule].Rule.Name} (INFINITY) needs {rules.Location[Rule].Rule.Expression.Describe()}",
            RejectionKind.Apart => ApartText(s),
            RejectionKind.ApartWithinUnit => $"rules put {s.VmName(Vm)} and {s.VmName(Other)} together and apart (rule {rules.Apart[Rule].Rule.Name})",
            RejectionKind.Together => $"must run with {s.VmName(Other)} on {s.NodeName(s.Location[Other])} (INFINITY colocation)",
            RejectionKind.FollowNotRunning => $"must run with {s.VmName(Other)} (rule {rules.Follows[Rule].Rule.Name}), which is not running",
            RejectionKind.FollowElsewhere => FollowText(s),
            RejectionKind.FollowFailover => $"follows {s.VmName(Other)} (rule {rules.Follows[Rule].Rule.Name}), which would not restart with it",
            RejectionKind.AnchorHeld => $"would leave {s.VmName(Other)} behind, which follows it within {ZoneName(rules.Follows[Rule].Zones, s.Location[Other])} (rule {rules.Follows[Rule].Rule.Name})",
            RejectionKind.SameZone => $"must run in the same {rules.Same[Rule].Zones.Unit} as {s.VmName(Other)} ({ZoneName(rules.Same[Rule].Zones, s.Location[Other])}; rule {rules.Same[Rule].Rule.Name})",
            RejectionKind.ZoneFailover => ZoneFailoverText(s),
            RejectionKind.NegativeScore => Total(s, Vm, Node),
            RejectionKind.OrderBlocked => $"starts after {s.VmName(Other)} (rule {rules.Orders[Rule].Rule.Name}, mandatory), which does not run",
            RejectionKind.Failures => FailureText(s, Vm, Node),
            RejectionKind.Capacity => $"{Dimension(s.Dims[Dim])} needs {Amount(s.Dims[Dim], Need)}, {Amount(s.Dims[Dim], Math.Max(0, Free), unit: false)} free",
            RejectionKind.Reserved => $"{Dimension(s.Dims[Dim])} needs {Amount(s.Dims[Dim], Need)}, {Amount(s.Dims[Dim], Math.Max(0, Free), unit: false)} free but {Amount(s.Dims[Dim], Held, unit: false)} of it is held for failover (N+{s.ReserveFailures})",
            RejectionKind.ApartFailoverTarget => $"failover target of {s.VmName(Other)}, which must stay apart from it (rule {rules.Apart[Rule].Rule.Name}, N+{s.ReserveFailures})",
            RejectionKind.NoFailoverTarget => $"would break the N+{s.ReserveFailures} reservation: no other node could restart it if {s.NodeName(Node)} failed",
            _ => Kind.ToString(),
        };
    }

    /// <summary>"total -1 (location prefer-ssd +100, colocation db-apart -101)": the deciding sum on a node.</summary>
    public static string Total(ClusterState s, int vm, int node) => Total(s.Rules.Terms(vm, node));

    public static string Total(IReadOnlyList<(string Term, double Score)> terms)
    {
        var total = terms.Sum(t => t.Score);
        var text = $"total {Signed(total, plus: false)}";
        return terms.Count == 0 ? text : $"{text} ({string.Join(", ", terms.Select(t => $"{t.Term} {Signed(t.Score)}"))})";
    }

    public static string Signed(double score, bool plus = true) =>
        (plus && score >= 0 ? "+" : "") + score.ToString("0.##", CultureInfo.InvariantCulture);

    private string ApartText(ClusterState s)
    {
        var set = s.Rules.Apart[Rule];
        if (set.Limit == 1)
        {
            return set.Zones.Attribute is null
                ? $"anti-affinity with {s.VmName(Other)} (rule {set.Rule.Name})"
                : $"anti-affinity with {s.VmName(Other)}, also in {set.Zones.Describe(set.Zones.Of[Node])} (rule {set.Rule.Name})";
        }

        var zone = set.Zones.Of[Node];
        var vm = Vm;
        var there = set.Members.Where(m => m != vm && s.Location[m] >= 0 && set.Zones.Of[s.Location[m]] == zone).Select(s.VmName);
        return $"rule {set.Rule.Name} allows {set.Limit} per {set.Zones.Unit}; {set.Zones.Describe(zone)} has {string.Join(", ", there)}";
    }

    private string FollowText(ClusterState s)
    {
        var f = s.Rules.Follows[Rule];
        var at = s.Location[Other];
        return f.NodeLevel
            ? $"must run with {s.VmName(Other)} on {s.NodeName(at)} (rule {f.Rule.Name})"
            : $"must run in the same {f.Zones.Unit} as {s.VmName(Other)} ({ZoneName(f.Zones, at)}; rule {f.Rule.Name})";
    }

    /// <remarks><see cref="Other"/> is the failing node here, <see cref="Rule"/> the index into the VM's zone bounds.</remarks>
    private string ZoneFailoverText(ClusterState s)
    {
        var zones = s.Rules.ZoneBound[Vm][Rule];
        return $"outside {ZoneName(zones, Other)}, where its INFINITY colocation by {zones.Attribute} keeps it when {s.NodeName(Other)} fails";
    }

    private static string ZoneName(Zones zones, int node) => node >= 0 && zones.Of[node] >= 0 ? zones.Describe(zones.Of[node]) : $"no {zones.Unit}";

    private static string FailureText(ClusterState s, int vm, int node)
    {
        var h = s.Vms[vm].Failures![s.NodeName(node)];
        var left = s.FailureTimeout(vm) - h.LastSecondsAgo;
        return string.Create(CultureInfo.InvariantCulture, $"failed here {h.Count} times (threshold {s.MigrationThreshold(vm)}), last {h.LastSecondsAgo:0} s ago; avoided for {left:0} s more");
    }

    /// <summary><c>memory_mib</c> reads as "memory ... MiB"; other dimensions keep their name.</summary>
    private static string Dimension(string dim) => Unit(dim) is { } u ? dim[..^(u.Length + 1)] : dim;

    private static string Amount(string dim, double value, bool unit = true)
    {
        var text = value.ToString(value == Math.Floor(value) ? "0" : "0.##", CultureInfo.InvariantCulture);
        return unit && Unit(dim) is { } u ? $"{text} {Display(u)}" : text;
    }

    private static string? Unit(string dim)
    {
        var i = dim.LastIndexOf('_');
        return i > 0 && dim[(i + 1)..] is "mib" or "gib" or "mb" or "gb" or "kib" or "tib" ? dim[(i + 1)..] : null;
    }

    private static string Display(string unit) => unit switch
    {
        "mib" => "MiB",
        "gib" => "GiB",
        "kib" => "KiB",
        "tib" => "TiB",
        _ => unit.ToUpperInvariant(),
    };
}
