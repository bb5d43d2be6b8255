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

    /// <summary>This node's standing, the leader, who holds each singleton, then the members as Akka.Cluster sees them.</summary>
    private static void ClusterShow(JsonNode cluster)
    {
        var self = cluster["self"]!;
        Console.Out.WriteLine($"this node     {self["name"]}: {self["status"]} ({self["address"]})");
        Console.Out.WriteLine($"leader        {cluster["leader"]?.GetValue<string>() ?? "(none: no member is up)"}");
        foreach (var (name, holder) in cluster["singletons"]?.AsObject() ?? [])
            Console.Out.WriteLine($"{name,-13} {holder?.GetValue<string>() ?? "(nobody: no member is up)"}");
        Console.Out.WriteLine();
        var table = new Table("NAME", "ADDRESS", "STATUS", "INCARNATION", "ROLES");
        foreach (var m in cluster["members"]?.AsArray() ?? [])
            table.Add(m!["name"], m["address"], m["status"], m["incarnation"], string.Join(",", m["roles"]!.AsArray().Select(r => r!.GetValue<string>())));
        Console.Out.WriteLine(table);
    }
}
