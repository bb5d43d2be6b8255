using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Virt.Shell.Output;

namespace Virt.Shell.Commands;

/// <summary><c>virt vm ...</c>: create, list, show, start, stop, restart, delete, clear-failures.</summary>
internal static class VmCommands
{
    public static Command Build(Option<string> api)
    {
        var vm = new Command("vm", "Manage virtual machines.");
        vm.Subcommands.Add(Create(api));
        vm.Subcommands.Add(List(api));
        vm.Subcommands.Add(Show(api));
        vm.Subcommands.Add(Lifecycle(api, "start", "Start a VM.", (c, n) => c.Post($"/v1/vms/{n}/start"), waitFor: ["running", "failed"]));
        vm.Subcommands.Add(Lifecycle(api, "stop", "Stop a VM gracefully (destroyed after its stop timeout); --force destroys at once.", (c, n, force) => c.Post($"/v1/vms/{n}/stop?force={force}"), waitFor: ["stopped", "failed"]));
        vm.Subcommands.Add(Lifecycle(api, "restart", "Restart a running VM (or start a stopped one).", (c, n) => c.Post($"/v1/vms/{n}/restart"), waitFor: ["running", "failed"]));
        vm.Subcommands.Add(Lifecycle(api, "delete", "Delete a stopped VM; --force stops it first.", (c, n, force) => c.Delete($"/v1/vms/{n}?force={force}"), waitFor: null));
        vm.Subcommands.Add(Lifecycle(api, "clear-failures", "Forget a VM's failures and restarts; a failed VM that should run starts again.", (c, n) => c.Post($"/v1/vms/{n}/clear-failures"), waitFor: null));
        return vm;
    }

    private static Command Create(Option<string> api)
    {
        var name = new Option<string?>("--name", "-n") { Description = "VM name: letters, digits, '.', '_', '-'." };
        var vcpus = new Option<int?>("--vcpus") { Description = "Virtual CPUs." };
        var memory = new Option<string?>("--memory", "-m") { Description = "Memory, e.g. 2GiB or 512MiB." };
        var disks = new Option<string[]>("--disk") { Description = "A disk: PATH, file:PATH, block:DEV or rbd:POOL/IMAGE,mon=HOST:PORT,user=U,secret=UUID (repeatable).", AllowMultipleArgumentsPerToken = false };
        var nics = new Option<string[]>("--nic") { Description = "A NIC: network:NAME or bridge:NAME, with ,mac= ,vlan= ,ovs (repeatable).", AllowMultipleArgumentsPerToken = false };
        var restart = new Option<string?>("--restart") { Description = "Restart policy: always (default), on-failure, never." };
        var priority = new Option<int?>("--priority") { Description = "Placement priority; higher goes first." };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Read the whole spec from a JSON file instead." };
        var json = new Option<bool>("--json") { Description = "Print the created VM as JSON." };
        var command = new Command("create", "Define a VM (it stays stopped until started).") { name, vcpus, memory, disks, nics, restart, priority, file, json };
        command.SetAction((parse, ct) => Invoke.Api(parse.GetValue(api)!, async client =>
        {
            JsonNode body;
            if (parse.GetValue(file) is { } path)
            {
                try
                {
                    body = JsonNode.Parse(await File.ReadAllTextAsync(path.FullName, ct)) ?? throw new UsageException($"{path.FullName} is empty");
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new UsageException($"cannot read {path.FullName}: {ex.Message}");
                }
                catch (JsonException ex)
                {
                    throw new UsageException($"{path.FullName} is not valid JSON: {ex.Message}");
                }
            }
            else
            {
                var spec = new JsonObject
                {
                    ["name"] = parse.GetValue(name) ?? throw new UsageException("give --name (or a spec file with -f)"),
                    ["vcpus"] = parse.GetValue(vcpus) ?? throw new UsageException("give --vcpus"),
                    ["memory"] = parse.GetValue(memory) ?? throw new UsageException("give --memory, e.g. --memory 2GiB"),
                };
                var diskList = new JsonArray((parse.GetValue(disks) ?? []).Select((d, i) => (JsonNode)DeviceSyntax.Disk(d, i)).ToArray());
                var nicList = new JsonArray((parse.GetValue(nics) ?? []).Select(n => (JsonNode)DeviceSyntax.Nic(n)).ToArray());
                if (diskList.Count > 0)
                    spec["disks"] = diskList;
                if (nicList.Count > 0)
                    spec["nics"] = nicList;
                if (parse.GetValue(restart) is { } policy)
                    spec["restart"] = policy;
                if (parse.GetValue(priority) is { } p)
                    spec["priority"] = p;
                body = spec;
            }

            var created = await client.Post("/v1/vms", body);
            Console.WriteLine(parse.GetValue(json) ? created.ToJsonString(JsonOutput.Pretty) : $"{created["name"]}: defined ({created["vcpus"]} vCPU, {created["memoryMib"]} MiB); start it with 'virt vm start {created["name"]}'");
            return 0;
        }));
        return command;
    }

    private static Command List(Option<string> api)
    {
        var json = new Option<bool>("--json") { Description = "Print an array of VMs as JSON." };
        var command = new Command("list", "List VMs.") { json };
        command.SetAction(parse => Invoke.Api(parse.GetValue(api)!, async client =>
        {
            var vms = (JsonArray)await client.Get("/v1/vms");
            if (parse.GetValue(json))
            {
                JsonOutput.Print(vms);
                return 0;
            }

            if (vms.Count == 0)
            {
                Console.WriteLine("No VMs. Create one with: virt vm create --name web-1 --vcpus 2 --memory 2GiB");
                return 0;
            }

            var table = new Table("NAME", "STATE", "DESIRED", "NODE", "VCPUS", "MEMORY", "RESTARTS", "SINCE");
            foreach (var vm in vms)
                table.Add(vm!["name"], vm["state"], vm["desired"], vm["node"], vm["vcpus"], $"{vm["memoryMib"]} MiB", vm["restartsInWindow"], Since(vm["since"]));
            Console.WriteLine(table);
            return 0;
        }));
        return command;
    }

    private static Command Show(Option<string> api)
    {
        var name = new Argument<string>("NAME");
        var json = new Option<bool>("--json") { Description = "Print the VM as JSON." };
        var command = new Command("show", "Show one VM.") { name, json };
        command.SetAction(parse => Invoke.Api(parse.GetValue(api)!, async client =>
        {
            var vm = await client.Get($"/v1/vms/{Uri.EscapeDataString(parse.GetValue(name)!)}");
            if (parse.GetValue(json))
            {
                JsonOutput.Print(vm);
                return 0;
            }

            var lines = new List<(string, string)>
            {
                ("name", $"{vm["name"]}"),
                ("state", $"{vm["state"]} (desired {vm["desired"]})"),
                ("node", $"{vm["node"] ?? "-"}"),
                ("since", $"{vm["since"]} ({Since(vm["since"])} ago)"),
                ("uuid", $"{vm["uuid"]}"),
                ("vcpus", $"{vm["vcpus"]}"),
                ("memory", $"{vm["memoryMib"]} MiB"),
                ("restart", $"{vm["restart"]} ({vm["restartsInWindow"]} restart(s) in the window)"),
                ("priority", $"{vm["priority"]}"),
            };
            foreach (var d in vm["disks"]!.AsArray())
                lines.Add(("disk", $"{d!["target"]} {d["kind"]} {d["path"]}{(d["readOnly"]?.GetValue<bool>() == true ? " (read-only)" : "")}"));
            foreach (var n in vm["nics"]!.AsArray())
                lines.Add(("nic", $"{n!["kind"]} {n["source"]}{(n["vlan"] is { } v ? $" vlan {v}" : "")}{(n["openVSwitch"]?.GetValue<bool>() == true ? " ovs" : "")}{(n["mac"] is { } m ? $" mac {m}" : "")}"));
            if (vm["lastError"] is { } error)
                lines.Add(("last error", $"{error}"));
            foreach (var reason in vm["failureReasons"]!.AsArray())
                lines.Add(("failure", $"{reason}"));
            var width = lines.Max(l => l.Item1.Length);
            foreach (var (key, value) in lines)
                Console.WriteLine($"{key.PadRight(width)}  {value}");
            return 0;
        }));
        return command;
    }

    private static Command Lifecycle(Option<string> api, string verb, string description, Func<ApiClient, string, Task<JsonNode>> call, string[]? waitFor) =>
        Lifecycle(api, verb, description, (c, n, _) => call(c, n), waitFor, forceOption: false);

    private static Command Lifecycle(Option<string> api, string verb, string description, Func<ApiClient, string, bool, Task<JsonNode>> call, string[]? waitFor, bool forceOption = true)
    {
        var name = new Argument<string>("NAME");
        var force = new Option<bool>("--force") { Description = verb == "delete" ? "Stop the VM first if it runs." : "Destroy instead of a graceful shutdown." };
        var wait = new Option<bool>("--wait") { Description = $"Wait until the VM is {string.Join(" or ", waitFor ?? [])}." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to --wait.", DefaultValueFactory = _ => 120 };
        var json = new Option<bool>("--json") { Description = "Print the VM as JSON." };
        var command = new Command(verb, description) { name, json };
        if (forceOption)
            command.Options.Add(force);
        if (waitFor is not null)
        {
            command.Options.Add(wait);
            command.Options.Add(timeout);
        }

        command.SetAction(parse => Invoke.Api(parse.GetValue(api)!, async client =>
        {
            var vmName = parse.GetValue(name)!;
            var path = Uri.EscapeDataString(vmName);
            var vm = await call(client, path, forceOption && parse.GetValue(force));
            if (vm["state"] is null)
            {
                Console.WriteLine($"{vmName}: deleted");
                return 0;
            }

            if (waitFor is not null && parse.GetValue(wait))
            {
                var deadline = DateTime.UtcNow.AddSeconds(parse.GetValue(timeout));
                while (!waitFor.Contains(vm["state"]!.GetValue<string>()))
                {
                    if (DateTime.UtcNow > deadline)
                        throw new ApiException(504, $"{vmName} is still {vm["state"]} after {parse.GetValue(timeout)} s");
                    await Task.Delay(200); // polling a remote state for the person waiting; not synchronisation inside Virt
                    vm = await client.Get($"/v1/vms/{path}");
                }
            }

            if (parse.GetValue(json))
                JsonOutput.Print(vm);
            else
                Console.WriteLine($"{vm["name"]}: {vm["state"]}{(vm["lastError"] is { } e ? $" (last error: {e})" : "")}");
            return vm["state"]!.GetValue<string>() == "failed" && waitFor is not null && parse.GetValue(wait) ? 1 : 0;
        }));
        return command;
    }

    internal static string Since(JsonNode? since)
    {
        if (since is null || !DateTimeOffset.TryParse(since.GetValue<string>(), out var at))
            return "-";
        var age = DateTimeOffset.UtcNow - at;
        return age.TotalSeconds < 90 ? $"{Math.Max(0, age.TotalSeconds):0}s" : age.TotalMinutes < 90 ? $"{age.TotalMinutes:0}m" : age.TotalHours < 48 ? $"{age.TotalHours:0}h" : $"{age.TotalDays:0}d";
    }
}
