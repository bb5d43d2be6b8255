using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Virt.Shell.Output;

namespace Virt.Shell.Commands;

/// <summary><c>virt cluster show</c>: the members (with their lease time left) and who holds each singleton.</summary>
internal static class ClusterCommands
{
    public static Command Build(Option<string> api)
    {
        var json = new Option<bool>("--json") { Description = "Print as JSON: {members: [{name, address, incarnation, leaseTtlLeftMs, ...}], singletons: {balancer: node}}." };
        var show = new Command("show", "Show the cluster: members, their leases, and the singleton holders.") { json };
        show.SetAction(parse => Invoke.Api(parse.GetValue(api)!, async client =>
        {
            var cluster = await client.Get("/v1/cluster");
            if (parse.GetValue(json))
            {
                JsonOutput.Print(cluster);
                return 0;
            }

            var self = cluster["self"]!;
            var mode = cluster["mode"]!.GetValue<string>() == "etcd"
                ? $"etcd ({string.Join(", ", cluster["endpoints"]!.AsArray().Select(e => e!.GetValue<string>()))})"
                : "in-process (single node; set virt.cluster.etcd.endpoints to form a cluster)";
            Console.WriteLine($"coordination  {mode}");
            Console.WriteLine($"this node     {self["name"]}: {self["state"]}{(self["error"] is { } error ? $" ({error})" : "")}");
            foreach (var (name, holder) in cluster["singletons"]!.AsObject())
                Console.WriteLine($"{name,-13} {holder?.GetValue<string>() ?? "(nobody: an election is under way)"}");
            Console.WriteLine();
            var table = new Table("NAME", "ADDRESS", "INCARNATION", "LEASE LEFT", "ROLES", "CAPACITY");
            foreach (var m in cluster["members"]!.AsArray())
            {
                table.Add(m!["name"], m["address"], m["incarnation"],
                    string.Create(CultureInfo.InvariantCulture, $"{m["leaseTtlLeftMs"]!.GetValue<long>() / 1000.0:0.0} s"),
                    string.Join(",", m["roles"]!.AsArray().Select(r => r!.GetValue<string>())),
                    Capacity(m["capacity"]!.AsObject()));
            }

            Console.WriteLine(table);
            return 0;
        }));
        var cluster = new Command("cluster", "The cluster this node belongs to.");
        cluster.Subcommands.Add(show);
        return cluster;
    }

    private static string Capacity(JsonObject capacity) =>
        capacity.Count == 0 ? "-" : string.Join(", ", capacity.Select(c => c.Key switch
        {
            "vcpu" => $"{c.Value} vCPU",
            "memory_mib" => $"{c.Value} MiB",
            _ => $"{c.Value} {c.Key}",
        }));
}
