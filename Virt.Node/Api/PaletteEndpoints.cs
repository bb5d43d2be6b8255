using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Virt.Node.Hosting;

namespace Virt.Node.Api;

/// <summary>
/// /v1/palettes: every command the `virt` shell offers, as data (Petabridge.Cmd's idea over HTTP). The shell parses,
/// completes, runs and prints commands from this document alone, so a palette added here appears in a shell that
/// never heard of it. A new palette (rule, sharding, fence, cluster status...) is a new entry in <see cref="Document"/>,
/// or a <see cref="Contribution"/> registered as a service by the part of the node that serves it.
/// </summary>
/// <remarks>
/// The document (version 1, grows only by additions):
/// <list type="bullet">
/// <item><c>cluster</c>, <c>node</c>: who answers, for the shell's prompt.</item>
/// <item><c>completions</c>: named sources of live names: GET <c>path</c>, the array (or its <c>items</c> field), <c>value</c> per item.</item>
/// <item><c>palettes[]</c>: <c>name</c>, <c>description</c>, <c>commands[]</c>. A command named "" is the palette itself (<c>virt events</c>).</item>
/// <item>a command: <c>arguments[]</c> and <c>options[]</c> (<c>name</c>, <c>aliases</c>, <c>type</c> string|int|flag|size|duration|choice|file|json-file|disk|nic|label|label-key,
/// <c>choices</c>, <c>repeat</c>, <c>required</c>, <c>default</c>, <c>description</c>, <c>complete</c> (a source), <c>to</c>: path | query.KEY | body.FIELD | body);
/// <c>request</c> {method, path with {ARG}}, or <c>local</c> (run by the shell itself: plan offline; edit, which opens
/// the document GET <c>edit.path</c> gives in the person's editor and sends it with the command's <c>request</c>;
/// console, which connects a WebSocket to <c>console.path</c> and carries the terminal's bytes both ways);
/// <c>refusedIf</c> names an answer field that, when true, non-empty or above zero, makes the exit status 1;
/// <c>each</c> names the answer's list when a command acted on several VMs: output and --wait apply to each item;
/// <c>oneOf</c> lists parameters of which exactly one must be given;
/// <c>wait</c> {path, field, until[], failed[]} gives --wait/--timeout; <c>follow</c> {path, after, match} gives --follow (server-sent events);
/// <c>output</c>: <c>table</c> {columns[{header, value, width, align, colour}], items} | <c>fields</c>[{label, value, each, colour}] | <c>line</c>, and <c>empty</c>;
/// values are templates: {field.path}, {a??b}, {since|age}, optional [ ... {x} ] dropped when x is missing; <c>view</c> names a richer rendering a shell may know.</item>
/// </list>
/// Every command also gets --json and --help from the shell.
/// </remarks>
internal static class PaletteEndpoints
{
    /// <summary>The cluster's name: the ActorSystem every node runs is <c>virt</c>.</summary>
    public const string Cluster = "virt";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/palettes", (HttpContext context) => Results.Content(Document(context.RequestServices).ToJsonString(), "application/json"));

    /// <summary>A part of the document (<c>{"completions": {...}, "palettes": [...]}</c>) that another part of the node adds; a palette of the same name replaces the built-in one.</summary>
    internal sealed record Contribution(string Json);

    public static JsonObject Document(IServiceProvider services)
    {
        var document = JsonNode.Parse(Palettes)!.AsObject();
        document["cluster"] = Cluster;
        document["node"] = services.GetService<IOptions<NodeOptions>>()?.Value.NodeName ?? Environment.MachineName;
        var palettes = document["palettes"]!.AsArray();
        var completions = document["completions"]!.AsObject();
        foreach (var contribution in services.GetServices<Contribution>())
        {
            var part = JsonNode.Parse(contribution.Json)!.AsObject();
            foreach (var (name, source) in part["completions"]?.AsObject().ToList() ?? [])
                completions[name] = source?.DeepClone();
            foreach (var palette in part["palettes"]?.AsArray() ?? [])
            {
                var name = palette!["name"]!.GetValue<string>();
                var existing = palettes.FirstOrDefault(p => p!["name"]!.GetValue<string>() == name);
                if (existing is not null)
                    palettes.Remove(existing);
                palettes.Add(palette.DeepClone());
            }
        }

        return document;
    }

    /// <summary>The palettes whose endpoints this node serves (the shell keeps a copy of this version's for when no node answers).</summary>
    internal const string Palettes = """
        {
          "version": 1,
          "completions": {
            "vms": { "path": "/v1/vms", "value": "{name}" },
            "nodes": { "path": "/v1/cluster", "items": "members", "value": "{name}" },
            "addresses": { "path": "/v1/cluster", "items": "members", "value": "{address}" },
            "labels": { "path": "/v1/labels", "value": "{label}" },
            "label-keys": { "path": "/v1/labels", "value": "{key}" }
          },
          "palettes": [
            {
              "name": "vm",
              "description": "Manage virtual machines.",
              "commands": [
                {
                  "name": "create",
                  "description": "Define a VM (it stays stopped until started).",
                  "options": [
                    { "name": "--name", "aliases": ["-n"], "type": "string", "to": "body.name", "description": "VM name: letters, digits, '.', '_', '-'." },
                    { "name": "--vcpus", "type": "int", "to": "body.vcpus", "description": "Virtual CPUs." },
                    { "name": "--memory", "aliases": ["-m"], "type": "size", "to": "body.memory", "description": "Memory, e.g. 2GiB or 512MiB." },
                    { "name": "--disk", "type": "disk", "repeat": true, "to": "body.disks", "description": "A disk: PATH, file:PATH, block:DEV or rbd:POOL/IMAGE,mon=HOST:PORT,user=U,secret=UUID (repeatable)." },
                    { "name": "--nic", "type": "nic", "repeat": true, "to": "body.nics", "description": "A NIC: network:NAME or bridge:NAME, with ,mac= ,vlan= ,ovs (repeatable)." },
                    { "name": "--restart", "type": "choice", "choices": ["always", "on-failure", "never"], "to": "body.restart", "description": "Restart policy (default always)." },
                    { "name": "--priority", "type": "int", "to": "body.priority", "description": "Placement priority; higher goes first." },
                    { "name": "--label", "aliases": ["-l"], "type": "label", "repeat": true, "complete": "labels", "to": "body.labels", "description": "A label KEY=VALUE, for selecting VMs (repeatable)." },
                    { "name": "--vnc", "type": "flag", "to": "body.vnc", "description": "Give it a VNC display ('virt vm vnc NAME' says where)." },
                    { "name": "--vnc-port", "type": "int", "to": "body.vncPort", "description": "The display's port (5900-65535); default: libvirt picks one." },
                    { "name": "--file", "aliases": ["-f"], "type": "json-file", "to": "body", "description": "Read the whole spec from a JSON file instead." }
                  ],
                  "request": { "method": "POST", "path": "/v1/vms" },
                  "output": { "line": "{name}: defined ({vcpus} vCPU, {memoryMib} MiB); start it with 'virt vm start {name}'" }
                },
                {
                  "name": "list",
                  "description": "List VMs; --label keeps those with every label given.",
                  "options": [ { "name": "--label", "aliases": ["-l"], "type": "label", "repeat": true, "complete": "labels", "to": "query.label", "description": "Only VMs with this label KEY=VALUE (repeatable: all of them)." } ],
                  "request": { "method": "GET", "path": "/v1/vms" },
                  "output": {
                    "table": {
                      "columns": [
                        { "header": "NAME", "value": "{name}" },
                        { "header": "STATE", "value": "{state}", "colour": "state" },
                        { "header": "DESIRED", "value": "{desired}" },
                        { "header": "NODE", "value": "{node}" },
                        { "header": "VCPUS", "value": "{vcpus}" },
                        { "header": "MEMORY", "value": "{memoryMib} MiB" },
                        { "header": "READY", "value": "{ready|bool:yes:no}" },
                        { "header": "RESTARTS", "value": "{restartsInWindow}" },
                        { "header": "SINCE", "value": "{since|age}" },
                        { "header": "LABELS", "value": "[{labels|pairs}]" }
                      ]
                    },
                    "empty": "No VMs. Create one with: virt vm create --name web-1 --vcpus 2 --memory 2GiB"
                  }
                },
                {
                  "name": "labels",
                  "description": "The labels the VMs have (KEY=VALUE), with how many VMs have each: what --label selects.",
                  "request": { "method": "GET", "path": "/v1/labels" },
                  "output": {
                    "table": {
                      "columns": [
                        { "header": "LABEL", "value": "{label}" },
                        { "header": "VMS", "value": "{vms}", "align": "right" }
                      ]
                    },
                    "empty": "No VM has a label. Give one with: virt vm update NAME --label app=web"
                  }
                },
                {
                  "name": "show",
                  "description": "Show one VM.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." } ],
                  "request": { "method": "GET", "path": "/v1/vms/{NAME}" },
                  "output": {
                    "fields": [
                      { "label": "name", "value": "{name}" },
                      { "label": "state", "value": "{state} (desired {desired})", "colour": "state" },
                      { "label": "node", "value": "{node}" },
                      { "label": "since", "value": "{since} ({since|age} ago)" },
                      { "label": "ready", "value": "[{readyState}]" },
                      { "label": "uuid", "value": "{uuid}" },
                      { "label": "vcpus", "value": "{vcpus}" },
                      { "label": "memory", "value": "{memoryMib} MiB" },
                      { "label": "restart", "value": "{restart} ({restartsInWindow} restart(s) in the window)" },
                      { "label": "priority", "value": "{priority}" },
                      { "label": "labels", "value": "[{labels|pairs}]" },
                      { "label": "pending", "value": "[{pending.vcpus} vCPU, {pending.memoryMib} MiB, {pending.disks|count} disk(s), {pending.nics|count} NIC(s) at its next start]" },
                      { "label": "disk", "each": "disks", "value": "{target} {kind} {path}[ (read-only){readOnly|if}]" },
                      { "label": "nic", "each": "nics", "value": "{kind} {source}[ vlan {vlan}][ ovs{openVSwitch|if}][ mac {mac}]" },
                      { "label": "last error", "value": "[{lastError}]" },
                      { "label": "failure", "each": "failureReasons", "value": "{.}" }
                    ]
                  }
                },
                {
                  "name": "update",
                  "description": "Change a VM's spec. A running VM's vCPUs, memory, disks and NICs change at its next start (vm show lists them as pending); restart policy, priority, timeouts and labels at once.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." } ],
                  "options": [
                    { "name": "--vcpus", "type": "int", "to": "body.vcpus", "description": "Virtual CPUs." },
                    { "name": "--memory", "aliases": ["-m"], "type": "size", "to": "body.memory", "description": "Memory, e.g. 8GiB or 512MiB." },
                    { "name": "--disk", "type": "disk", "repeat": true, "to": "body.disks", "description": "Replace the disks: PATH, file:PATH, block:DEV or rbd:POOL/IMAGE,... (repeatable)." },
                    { "name": "--nic", "type": "nic", "repeat": true, "to": "body.nics", "description": "Replace the NICs: network:NAME or bridge:NAME, with ,mac= ,vlan= ,ovs (repeatable)." },
                    { "name": "--restart", "type": "choice", "choices": ["always", "on-failure", "never"], "to": "body.restart", "description": "Restart policy." },
                    { "name": "--priority", "type": "int", "to": "body.priority", "description": "Placement priority; higher goes first." },
                    { "name": "--stop-timeout", "type": "duration", "to": "body.stopTimeout", "description": "How long a graceful stop may take, e.g. 30s." },
                    { "name": "--max-restarts", "type": "int", "to": "body.maxRestarts", "description": "Automatic restarts allowed within the restart window." },
                    { "name": "--label", "aliases": ["-l"], "type": "label", "repeat": true, "complete": "labels", "to": "body.labels", "description": "Add or change a label KEY=VALUE (repeatable)." },
                    { "name": "--remove-label", "type": "label-key", "repeat": true, "complete": "label-keys", "to": "body.labels", "description": "Remove the label KEY (repeatable)." },
                    { "name": "--vnc", "type": "flag", "to": "body.vnc", "description": "Give it a VNC display." },
                    { "name": "--vnc-port", "type": "int", "to": "body.vncPort", "description": "The display's port (5900-65535)." },
                    { "name": "--file", "aliases": ["-f"], "type": "json-file", "to": "body", "description": "Read the fields to change from a JSON file (a merge patch: null removes)." }
                  ],
                  "request": { "method": "PATCH", "path": "/v1/vms/{NAME}" },
                  "output": { "line": "{name}: updated ({vcpus} vCPU, {memoryMib} MiB)[; it keeps running as it is until its next start, which takes {pending.vcpus} vCPU, {pending.memoryMib} MiB]" }
                },
                {
                  "name": "edit",
                  "description": "Edit a VM's spec as JSON in $VISUAL or $EDITOR; saved, it is sent as vm update would. A refused edit reopens with what is wrong; nothing is lost.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." } ],
                  "options": [ { "name": "--from", "type": "file", "description": "Open this file (a kept edit) instead of the VM's spec." } ],
                  "local": "edit",
                  "edit": { "path": "/v1/vms/{NAME}/spec" },
                  "request": { "method": "PUT", "path": "/v1/vms/{NAME}" },
                  "output": { "line": "{name}: updated ({vcpus} vCPU, {memoryMib} MiB)[; it keeps running as it is until its next start, which takes {pending.vcpus} vCPU, {pending.memoryMib} MiB]" }
                },
                {
                  "name": "start",
                  "description": "Start a VM (or every VM with --label); the balancer chooses the host, or --node pins it (still checked).",
                  "arguments": [ { "name": "NAME", "type": "string", "complete": "vms", "to": "path", "description": "The VM (or --label)." } ],
                  "options": [
                    { "name": "--node", "type": "string", "complete": "nodes", "to": "query.node", "description": "Start it on this host only." },
                    { "name": "--label", "aliases": ["-l"], "type": "label", "repeat": true, "complete": "labels", "to": "query.label", "description": "Every VM with this label KEY=VALUE (repeatable: all of them); each VM's outcome is printed." }
                  ],
                  "request": { "method": "POST", "path": "/v1/vms[/{NAME}]/start" },
                  "wait": { "path": "/v1/vms/{NAME}", "field": "state", "until": ["running", "failed"], "failed": ["failed"] },
                  "each": "vms",
                  "oneOf": ["NAME", "--label"],
                  "refusedIf": "refused",
                  "output": { "line": "{name}: {state}[ (last error: {lastError})][, refused: {reason}]" }
                },
                {
                  "name": "stop",
                  "description": "Stop a VM (or every VM with --label) gracefully (destroyed after its stop timeout); --force destroys at once.",
                  "arguments": [ { "name": "NAME", "type": "string", "complete": "vms", "to": "path", "description": "The VM (or --label)." } ],
                  "options": [
                    { "name": "--force", "type": "flag", "to": "query.force", "description": "Destroy instead of a graceful shutdown." },
                    { "name": "--label", "aliases": ["-l"], "type": "label", "repeat": true, "complete": "labels", "to": "query.label", "description": "Every VM with this label KEY=VALUE (repeatable: all of them); each VM's outcome is printed." }
                  ],
                  "request": { "method": "POST", "path": "/v1/vms[/{NAME}]/stop" },
                  "wait": { "path": "/v1/vms/{NAME}", "field": "state", "until": ["stopped", "failed"], "failed": ["failed"] },
                  "each": "vms",
                  "oneOf": ["NAME", "--label"],
                  "refusedIf": "refused",
                  "output": { "line": "{name}: {state}[ (last error: {lastError})][, refused: {reason}]" }
                },
                {
                  "name": "restart",
                  "description": "Restart a running VM (or start a stopped one).",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." } ],
                  "request": { "method": "POST", "path": "/v1/vms/{NAME}/restart" },
                  "wait": { "path": "/v1/vms/{NAME}", "field": "state", "until": ["running", "failed"], "failed": ["failed"] },
                  "output": { "line": "{name}: {state}[ (last error: {lastError})]" }
                },
                {
                  "name": "delete",
                  "description": "Delete a stopped VM; --force stops it first.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." } ],
                  "options": [ { "name": "--force", "type": "flag", "to": "query.force", "description": "Stop the VM first if it runs." } ],
                  "request": { "method": "DELETE", "path": "/v1/vms/{NAME}" },
                  "output": { "line": "{NAME}: deleted" }
                },
                {
                  "name": "reset",
                  "description": "Reset a running VM at once, like its reset button (no shutdown; the guest boots again).",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." } ],
                  "request": { "method": "POST", "path": "/v1/vms/{NAME}/reset" },
                  "output": { "line": "{message}" }
                },
                {
                  "name": "sysrq",
                  "description": "Send a magic SysRq key to a running Linux guest (Alt+SysRq+KEY): h lists them on its console, s syncs, b reboots.",
                  "arguments": [
                    { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." },
                    { "name": "KEY", "type": "choice", "required": true, "choices": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "z"], "to": "query.key", "description": "The SysRq command." }
                  ],
                  "request": { "method": "POST", "path": "/v1/vms/{NAME}/sysrq" },
                  "output": { "line": "{message}" }
                },
                {
                  "name": "send-key",
                  "description": "Press keys together on a running VM's keyboard, then release them: vm send-key web-1 ctrl alt delete.",
                  "arguments": [
                    { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." },
                    { "name": "KEYS", "type": "string", "required": true, "repeat": true, "to": "body.keys", "description": "Key names: a, 1, f12, enter, esc, ctrl, alt, shift, delete, sysrq... (Linux KEY_ names without KEY_)." }
                  ],
                  "options": [ { "name": "--hold-ms", "type": "int", "to": "body.holdMs", "description": "How long the keys stay pressed, in ms." } ],
                  "request": { "method": "POST", "path": "/v1/vms/{NAME}/send-key" },
                  "output": { "line": "{message}" }
                },
                {
                  "name": "console",
                  "description": "The guest's serial console, through the node it runs on (a WebSocket); Ctrl-] leaves.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." } ],
                  "local": "console",
                  "console": { "path": "/v1/vms/{NAME}/console" }
                },
                {
                  "name": "vnc",
                  "description": "Where to connect a VNC viewer to a running VM's display (a spec with --vnc has one).",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." } ],
                  "request": { "method": "GET", "path": "/v1/vms/{NAME}/vnc" },
                  "output": { "line": "{message}" }
                },
                {
                  "name": "why",
                  "description": "The placement engine's explanation: where the VM would start now and why, or why it can start nowhere.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "vms", "to": "path", "description": "The VM." } ],
                  "request": { "method": "GET", "path": "/v1/vms/{NAME}/why" },
                  "output": { "line": "{text}" }
                },
                {
                  "name": "clear-failures",
                  "description": "Forget a VM's failures and restarts (every VM's with --all); a failed VM that should run starts again.",
                  "arguments": [ { "name": "NAME", "type": "string", "complete": "vms", "to": "path", "description": "The VM (or --all)." } ],
                  "options": [ { "name": "--all", "type": "flag", "to": "query.all", "description": "Every VM with failures or counted restarts." } ],
                  "request": { "method": "POST", "path": "/v1/vms[/{NAME}]/clear-failures" },
                  "output": { "line": "[{name}: {state}][ (last error: {lastError})][{message}]" }
                }
              ]
            },
            {
              "name": "node",
              "description": "This node.",
              "commands": [
                {
                  "name": "show",
                  "description": "Show the node: libvirt health, capacity, allocation, domains Virt does not manage.",
                  "request": { "method": "GET", "path": "/v1/node" },
                  "output": {
                    "fields": [
                      { "label": "node", "value": "{name}" },
                      { "label": "libvirt", "value": "{uri} ({healthy|bool:healthy:UNHEALTHY}, {driver})", "colour": "health" },
                      { "label": "error", "value": "[{error} (reconnect attempts: {reconnectAttempts})]" },
                      { "label": "capacity", "value": "{cpus} CPUs, {memoryMib} MiB ({cpuModel})" },
                      { "label": "allocated", "value": "{allocatedVcpus} vCPUs, {allocatedMemoryMib} MiB" },
                      { "label": "vms", "value": "{vms} ({running} running, {failed} failed)" },
                      { "label": "unknown", "each": "unknownDomains", "value": "{name} ({state}) (in libvirt, not managed by Virt; left alone)" }
                    ]
                  }
                },
                {
                  "name": "leave",
                  "description": "A node leaves the cluster gracefully (its shards hand off); refused while VMs run there.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "nodes", "to": "path", "description": "The node." } ],
                  "request": { "method": "POST", "path": "/v1/nodes/{NAME}/leave" },
                  "output": { "line": "{message}" }
                },
                {
                  "name": "fence",
                  "description": "Fence a host now, like pcs stonith fence: a member is marked down first; then its fence levels run (virt fence list shows how it went).",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "nodes", "to": "path", "description": "The node." } ],
                  "request": { "method": "POST", "path": "/v1/nodes/{NAME}/fence" },
                  "output": { "line": "{message}" }
                },
                {
                  "name": "confirm-fenced",
                  "description": "Vouch that a lost host is off (like stonith_admin --confirm): its VMs start elsewhere at once. If it still runs them, they run twice.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "nodes", "to": "path", "description": "The node." } ],
                  "request": { "method": "POST", "path": "/v1/nodes/{NAME}/confirm-fenced" },
                  "output": { "line": "warning: {message}" }
                }
              ]
            },
            {
              "name": "cluster",
              "description": "The cluster this node belongs to.",
              "commands": [
                {
                  "name": "show",
                  "description": "Show the cluster: this node, the leader, the singleton holders and the members.",
                  "request": { "method": "GET", "path": "/v1/cluster" },
                  "view": "cluster-show",
                  "output": {
                    "fields": [
                      { "label": "this node", "value": "{self.name}: {self.status} ({self.address})" },
                      { "label": "leader", "value": "{leader}" },
                      { "label": "member", "each": "members", "value": "{name} {address} {status}, incarnation {incarnation}" }
                    ]
                  }
                },
                {
                  "name": "snapshot",
                  "description": "The balancer's picture (hosts, VMs, rules) as a scenario file virt plan reads; --pending NAME adds that VM to place.",
                  "options": [ { "name": "--pending", "type": "string", "complete": "vms", "to": "query.pending", "description": "A VM to place in the scenario." } ],
                  "request": { "method": "GET", "path": "/v1/cluster/snapshot" }
                },
                {
                  "name": "status",
                  "description": "The cluster at a glance: members, leader, singletons, shards, and every host with its VMs and how full it is.",
                  "request": { "method": "GET", "path": "/v1/cluster/status" },
                  "view": "cluster-status",
                  "watch": { "seconds": 2 },
                  "output": {
                    "fields": [
                      { "label": "leader", "value": "{leader}" },
                      { "label": "member", "each": "members", "value": "{name} {status}, {shards} shards, {entities} entities" },
                      { "label": "host", "each": "hosts", "value": "{name} {state}: {usedVcpus}/{cpus} vCPU, {usedMemoryMib}/{memoryMib} MiB" }
                    ]
                  }
                },
                {
                  "name": "leave",
                  "description": "A member leaves the cluster gracefully (its shards hand off); refused while VMs run there. The same as node leave.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "nodes", "to": "path", "description": "The node." } ],
                  "request": { "method": "POST", "path": "/v1/nodes/{NAME}/leave" },
                  "output": { "line": "{message}" }
                },
                {
                  "name": "down",
                  "description": "Mark a member down at once, as the split brain resolver would (for a host that is gone or hung): no hand-off, its VMs wait for a fence.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "complete": "nodes", "to": "path", "description": "The node." } ],
                  "request": { "method": "POST", "path": "/v1/nodes/{NAME}/down" },
                  "output": { "line": "{message}" }
                },
                {
                  "name": "down-unreachable",
                  "description": "Mark down every member the others cannot reach, without waiting for the split brain resolver.",
                  "request": { "method": "POST", "path": "/v1/cluster/down-unreachable" },
                  "output": { "line": "{message}" }
                }
              ]
            },
            {
              "name": "sharding",
              "description": "The vm shard region: where the VM entities live.",
              "commands": [
                {
                  "name": "show",
                  "description": "Regions per member with their shards and entities (VM entities running there).",
                  "request": { "method": "GET", "path": "/v1/sharding" },
                  "output": {
                    "table": { "items": "regions", "columns": [ { "header": "NODE", "value": "{node}" }, { "header": "ADDRESS", "value": "{address}" }, { "header": "SHARDS", "value": "{shards}" }, { "header": "ENTITIES", "value": "{entities}" } ] },
                    "empty": "No shard region answered."
                  }
                },
                {
                  "name": "shards",
                  "description": "Every shard that is allocated, the member it is on and its entities.",
                  "request": { "method": "GET", "path": "/v1/sharding" },
                  "output": {
                    "table": { "items": "shards", "columns": [ { "header": "SHARD", "value": "{shard}" }, { "header": "NODE", "value": "{node}" }, { "header": "ENTITIES", "value": "{entities}" } ] },
                    "empty": "No shard is allocated yet (shards are allocated when a VM entity first starts)."
                  }
                }
              ]
            },
            {
              "name": "fence",
              "description": "Fences: how each lost host was made to run nothing before its VMs started elsewhere.",
              "commands": [
                {
                  "name": "list",
                  "description": "Every fence record, newest first: host, incarnation, state, the level that confirmed it and the evidence (or why not yet).",
                  "request": { "method": "GET", "path": "/v1/fences" },
                  "output": {
                    "table": { "items": "fences", "columns": [ { "header": "HOST", "value": "{host}" }, { "header": "INCARNATION", "value": "{incarnation}" }, { "header": "STATE", "value": "{state}" }, { "header": "LEVEL", "value": "[{level}]" }, { "header": "EVIDENCE", "value": "[{evidence}][{lastFailure}]" } ] },
                    "empty": "No host has been fenced."
                  }
                }
              ]
            },
            {
              "name": "rule",
              "description": "The balancer's placement rules: location, colocation and order rules of the virt plan scenario format.",
              "commands": [
                {
                  "name": "add",
                  "description": "Add a rule from a JSON file (one object of a scenario's rules list); running VMs that already break it are named.",
                  "options": [ { "name": "--file", "aliases": ["-f"], "type": "json-file", "required": true, "to": "body", "description": "The rule, as JSON." } ],
                  "request": { "method": "POST", "path": "/v1/rules" },
                  "output": { "fields": [ { "label": "added", "value": "{name}" }, { "label": "warning", "each": "warnings", "value": "{.}" } ] }
                },
                {
                  "name": "list",
                  "description": "List the rules.",
                  "request": { "method": "GET", "path": "/v1/rules" },
                  "output": {
                    "table": { "columns": [ { "header": "NAME", "value": "{name}" }, { "header": "KIND", "value": "{rule.kind}" }, { "header": "SCORE", "value": "[{rule.score}]" }, { "header": "VMS", "value": "{rule.vms|join}" } ] },
                    "empty": "No rules. Add one with: virt rule add -f RULE.json"
                  }
                },
                {
                  "name": "show",
                  "description": "Show one rule as JSON.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "to": "path", "description": "The rule." } ],
                  "request": { "method": "GET", "path": "/v1/rules/{NAME}" }
                },
                {
                  "name": "remove",
                  "description": "Remove a rule.",
                  "arguments": [ { "name": "NAME", "type": "string", "required": true, "to": "path", "description": "The rule." } ],
                  "request": { "method": "DELETE", "path": "/v1/rules/{NAME}" },
                  "output": { "line": "{NAME}: removed" }
                }
              ]
            },
            {
              "name": "events",
              "description": "VM state changes: history, and with --follow, live.",
              "commands": [
                {
                  "name": "",
                  "description": "Show VM state changes (history, and with --follow, live; Ctrl+C stops).",
                  "options": [
                    { "name": "--vm", "type": "string", "complete": "vms", "to": "query.vm", "description": "Only this VM's events." },
                    { "name": "--limit", "type": "int", "default": 20, "to": "query.limit", "description": "How many past events to show." }
                  ],
                  "request": { "method": "GET", "path": "/v1/events" },
                  "follow": { "path": "/v1/events/stream", "after": "offset", "match": { "vm": "--vm" } },
                  "output": {
                    "table": {
                      "columns": [
                        { "header": "OFFSET", "value": "{offset}", "width": 6, "align": "right" },
                        { "header": "TIME", "value": "{at|time}", "width": 8 },
                        { "header": "VM", "value": "{vm}", "width": 16 },
                        { "header": "EVENT", "value": "{type}", "width": 20 },
                        { "header": "DETAIL", "value": "{detail.why??detail.reason??detail.reasons.last}" }
                      ]
                    }
                  }
                }
              ]
            },
            {
              "name": "plan",
              "description": "Placement what-if, offline: runs the placement engine on a scenario file.",
              "commands": [
                {
                  "name": "",
                  "description": "Plan placements for a scenario file without a cluster: decisions, unplaced VMs with reasons, N+X reservation.",
                  "local": "plan",
                  "arguments": [ { "name": "FILE", "type": "file", "required": true, "description": "Scenario JSON: nodes, vms, rules, policy and an action (see README)." } ],
                  "options": [ { "name": "--cib", "type": "flag", "description": "Print the scenario as a Pacemaker CIB (for crm_simulate) instead of planning." } ]
                }
              ]
            }
          ]
        }
        """;
}
