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
            case "cluster-status":
                ClusterStatus(answer);
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

    private static string Leases(JsonNode? leases) => leases switch
    {
        null => "none (no etcd configured: the split brain resolver keeps the majority)",
        JsonArray { Count: 0 } => "none held",
        JsonArray held => string.Join(", ", held.Select(l => l!["error"] is { } error
            ? error.GetValue<string>()
            : $"{l["for"]?.GetValue<string>() ?? l["name"]!.GetValue<string>()} held by {l["holder"]?.GetValue<string>() ?? "?"}")),
        _ => leases.ToJsonString(),
    };

    /// <summary>crm_mon for Virt: who leads and holds the singletons, each member with its shards, each host with its VMs and load.</summary>
    private static void ClusterStatus(JsonNode status)
    {
        var singletons = string.Join(", ", (status["singletons"]?.AsObject() ?? []).Select(s => $"{s.Key} on {s.Value?.GetValue<string>() ?? "nobody"}"));
        var counts = string.Join(", ", (status["vmCounts"]?.AsObject() ?? []).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Value} {c.Key}"));
        Console.Out.WriteLine($"leader        {status["leader"]?.GetValue<string>() ?? "(none)"}; {singletons}");
        Console.Out.WriteLine($"vms           {(counts.Length == 0 ? "none" : counts)}");
        Console.Out.WriteLine($"leases        {Leases(status["leases"])}");
        Console.Out.WriteLine();
        var members = new Table("MEMBER", "ADDRESS", "STATUS", "ROLES", "SHARDS", "ENTITIES");
        foreach (var m in status["members"]?.AsArray() ?? [])
            members.Add(m!["name"], m["address"], m["status"], string.Join(",", m["roles"]!.AsArray().Select(r => r!.GetValue<string>())), m["shards"], m["entities"]);
        Console.Out.WriteLine(members);
        Console.Out.WriteLine();
        var hosts = new Table("HOST", "STATE", "VCPU USED/TOTAL", "MEMORY USED/TOTAL", "VMS");
        foreach (var h in status["hosts"]?.AsArray() ?? [])
        {
            var vms = h!["vms"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
            hosts.Add(h["name"], h["state"], $"{h["usedVcpus"]}/{h["cpus"]}", $"{h["usedMemoryMib"]}/{h["memoryMib"]} MiB",
                vms.Count <= 6 ? string.Join(" ", vms) : $"{string.Join(" ", vms.Take(6))} +{vms.Count - 6}");
        }

        Console.Out.WriteLine(hosts);
    }
}
