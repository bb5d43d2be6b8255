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
    Failures,
    Capacity,
    Reserved,
    ApartFailoverTarget,
    NoFailoverTarget,
}

/// <summary>Why a VM (or group) cannot go to one node. Cheap to make; turned into text only when reported.</summary>
internal readonly record struct Rejection(RejectionKind Kind, int Vm, int Node, int Rule = -1, int Other = -1, int Dim = -1, double Need = 0, double Free = 0, double Held = 0)
{
    public string Describe(ClusterState s)
    {
        return Kind switch
        {
            RejectionKind.NodeState => s.Nodes[Node].State.ToString().ToLowerInvariant(),
            RejectionKind.Evacuating => "being evacuated",
            RejectionKind.Failed => "failed",
            RejectionKind.LocationForbids => $"rule {s.Rules.Location[Rule].Rule.Name} (-INFINITY)",
            RejectionKind.LocationRequires => $"rule {s.Rules.Location[Rule].Rule.Name} (INFINITY) needs {s.Rules.Location[Rule].Rule.Expression.Describe()}",
            RejectionKind.Apart => $"anti-affinity with {s.VmName(Other)} (rule {s.Rules.Colocation[Rule].Name})",
            RejectionKind.ApartWithinUnit => $"rules put {s.VmName(Vm)} and {s.VmName(Other)} together and apart (rule {s.Rules.Colocation[Rule].Name})",
            RejectionKind.Together => $"must run with {s.VmName(Other)} on {s.NodeName(s.Location[Other])} (INFINITY colocation)",
            RejectionKind.Failures => FailureText(s, Vm, Node),
            RejectionKind.Capacity => $"{Dimension(s.Dims[Dim])} needs {Amount(s.Dims[Dim], Need)}, {Amount(s.Dims[Dim], Math.Max(0, Free), unit: false)} free",
            RejectionKind.Reserved => $"{Dimension(s.Dims[Dim])} needs {Amount(s.Dims[Dim], Need)}, {Amount(s.Dims[Dim], Math.Max(0, Free), unit: false)} free but {Amount(s.Dims[Dim], Held, unit: false)} of it is held for failover (N+{s.ReserveFailures})",
            RejectionKind.ApartFailoverTarget => $"failover target of {s.VmName(Other)}, which must stay apart from it (rule {s.Rules.Colocation[Rule].Name}, N+{s.ReserveFailures})",
            RejectionKind.NoFailoverTarget => $"would break the N+{s.ReserveFailures} reservation: no other node could restart it if {s.NodeName(Node)} failed",
            _ => Kind.ToString(),
        };

    }

    private static string FailureText(ClusterState s, int vm, int node)
    {
        var h = s.Vms[vm].Failures![s.NodeName(node)];
        var left = s.Policy.FailureTimeoutSeconds - h.LastSecondsAgo;
        return string.Create(CultureInfo.InvariantCulture, $"failed here {h.Count} times (threshold {s.Policy.MigrationThreshold}), last {h.LastSecondsAgo:0} s ago; avoided for {left:0} s more");
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
