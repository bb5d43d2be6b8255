using System.CommandLine;
using System.Text.Json.Nodes;
using Virt.Shell.Output;

namespace Virt.Shell.Commands;

/// <summary><c>virt node show</c>: this node's libvirt health, capacity, VMs and unknown domains.</summary>
internal static class NodeCommands
{
    public static Command Build(Option<string> api)
    {
        var json = new Option<bool>("--json") { Description = "Print as JSON." };
        var show = new Command("show", "Show the node: libvirt health, capacity, allocation, domains Virt does not manage.") { json };
        show.SetAction(parse => Invoke.Api(parse.GetValue(api)!, async client =>
        {
            var node = await client.Get("/v1/node");
            if (parse.GetValue(json))
            {
                JsonOutput.Print(node);
                return 0;
            }

            var healthy = node["healthy"]!.GetValue<bool>();
            Console.WriteLine($"node      {node["name"]}");
            Console.WriteLine($"libvirt   {node["uri"]} ({(healthy ? "healthy" : "UNHEALTHY")}, {node["driver"] ?? "-"})");
            if (!healthy)
                Console.WriteLine($"error     {node["error"]} (reconnect attempts: {node["reconnectAttempts"]})");
            Console.WriteLine($"capacity  {node["cpus"]} CPUs, {node["memoryMib"]} MiB ({node["cpuModel"] ?? "-"})");
            Console.WriteLine($"allocated {node["allocatedVcpus"]} vCPUs, {node["allocatedMemoryMib"]} MiB");
            Console.WriteLine($"vms       {node["vms"]} ({node["running"]} running, {node["failed"]} failed)");
            var unknown = node["unknownDomains"]!.AsArray();
            if (unknown.Count > 0)
                Console.WriteLine($"unknown   {string.Join(", ", unknown.Select(d => $"{d!["name"]} ({d["state"]})"))} (in libvirt, not managed by Virt; left alone)");
            return 0;
        }));
        var node = new Command("node", "This node.");
        node.Subcommands.Add(show);
        return node;
    }
}
