using System.Globalization;
using System.Text.Json.Nodes;

namespace Virt.Shell.Output;

/// <summary>
/// Renderings richer than a palette's generic output, by the name a palette gives in <c>view</c>. A view this shell
/// does not know falls back to the generic output, so a node may name views of newer shells.
/// </summary>
internal static class Views
{
    public static bool TryPrint(string view, JsonNode answer)
    {
        switch (view)
        {
            case "cluster-show":
                ClusterShow(answer);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The coordination mode, this node's standing, who holds each singleton, then the members.</summary>
    private static void ClusterShow(JsonNode cluster)
    {
        var self = cluster["self"]!;
        var mode = cluster["mode"]?.GetValue<string>() == "etcd"
            ? $"etcd ({string.Join(", ", cluster["endpoints"]!.AsArray().Select(e => e!.GetValue<string>()))})"
            : "in-process (single node; set virt.cluster.etcd.endpoints to form a cluster)";
        Console.Out.WriteLine($"coordination  {mode}");
        Console.Out.WriteLine($"this node     {self["name"]}: {self["state"]}{(self["error"] is { } error ? $" ({error})" : "")}");
        foreach (var (name, holder) in cluster["singletons"]?.AsObject() ?? [])
            Console.Out.WriteLine($"{name,-13} {holder?.GetValue<string>() ?? "(nobody: an election is under way)"}");
        Console.Out.WriteLine();
        var table = new Table("NAME", "ADDRESS", "INCARNATION", "LEASE LEFT", "ROLES", "CAPACITY");
        foreach (var m in cluster["members"]?.AsArray() ?? [])
        {
            table.Add(m!["name"], m["address"], m["incarnation"],
                string.Create(CultureInfo.InvariantCulture, $"{m["leaseTtlLeftMs"]!.GetValue<long>() / 1000.0:0.0} s"),
                string.Join(",", m["roles"]!.AsArray().Select(r => r!.GetValue<string>())),
                Capacity(m["capacity"]!.AsObject()));
        }

        Console.Out.WriteLine(table);
    }

    private static string Capacity(JsonObject capacity) =>
        capacity.Count == 0 ? "-" : string.Join(", ", capacity.Select(c => c.Key switch
        {
            "vcpu" => $"{c.Value} vCPU",
            "memory_mib" => $"{c.Value} MiB",
            _ => $"{c.Value} {c.Key}",
        }));
}
