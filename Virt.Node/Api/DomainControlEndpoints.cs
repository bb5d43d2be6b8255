using System.Text.Json;
using Akka.Actor;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Cluster;
using Virt.Actors.Vm;
using Virt.Node.Libvirt;

namespace Virt.Node.Api;

/// <summary>
/// /v1/vms/NAME/reset, /sysrq, /send-key, /vnc: actions on the running domain that Virt's lifecycle does not decide
/// on, sent to the agent of the host the VM runs on (whichever node answers the request). A VM that is not running
/// is a 409 that says so; nothing is stored.
/// </summary>
internal static class DomainControlEndpoints
{
    /// <summary>Magic SysRq commands (the kernel's sysrq.rst): a letter or digit.</summary>
    private const string SysRqKeys = "0123456789bcdefghijklmnopqrstuvwxz";

    public static void Map(IEndpointRouteBuilder app)
    {
        var vms = app.MapGroup("/v1/vms");
        vms.MapPost("/{name}/reset", (string name, ApiContext api) => Control(api, name, "reset", incarnation => new ResetDomain(name, incarnation)));
        vms.MapPost("/{name}/sysrq", (string name, HttpRequest request, ApiContext api) =>
        {
            var key = request.Query["key"].ToString().ToLowerInvariant();
            return key.Length != 1 || !SysRqKeys.Contains(key[0])
                ? Task.FromResult(Problems.BadQuery("key", $"'{request.Query["key"]}' is not a SysRq command: one of {string.Join(" ", SysRqKeys.ToCharArray())} (h prints the list on the guest's console)"))
                : Control(api, name, $"sysrq {key}", incarnation => new SendDomainKeys(name, [LinuxKeys.LeftAlt, LinuxKeys.SysRq, LinuxKeys.Code(key)!.Value], 0, incarnation));
        });
        vms.MapPost("/{name}/send-key", SendKey);
        vms.MapGet("/{name}/vnc", Vnc);
    }

    /// <summary><c>{"keys": ["ctrl", "alt", "delete"], "holdMs": 100}</c>: the keys pressed together, then released.</summary>
    private static async Task<IResult> SendKey(string name, HttpRequest request, ApiContext api)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body);
            body = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return Problems.BadQuery("body", $"not valid JSON: {ex.Message.Split(" LineNumber:")[0]}");
        }

        var errors = new List<FieldError>();
        if (body.ValueKind != JsonValueKind.Object)
            return Problems.BadRequest([new FieldError("", "the body must be {\"keys\": [\"ctrl\", \"alt\", \"delete\"]}")]);
        foreach (var field in body.EnumerateObject().Where(f => f.Name is not ("keys" or "holdMs")))
            errors.Add(new FieldError(field.Name, "unknown field; the fields here are keys, holdMs"));
        var codes = new List<uint>();
        if (!body.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array || keys.GetArrayLength() == 0)
            errors.Add(new FieldError("keys", "give the keys to press together, like [\"ctrl\", \"alt\", \"delete\"]"));
        else if (keys.GetArrayLength() > LinuxKeys.MaxPressed)
            errors.Add(new FieldError("keys", $"has {keys.GetArrayLength()} keys; libvirt presses at most {LinuxKeys.MaxPressed} together"));
        else
        {
            var i = 0;
            foreach (var key in keys.EnumerateArray())
            {
                var text = key.ValueKind == JsonValueKind.String ? key.GetString()! : key.GetRawText();
                if (LinuxKeys.Code(text) is { } code)
                    codes.Add(code);
                else
                    errors.Add(new FieldError($"keys[{i}]", $"'{text}' is not a key name; use names like a, 1, f12, enter, esc, ctrl, alt, shift, delete, sysrq, leftmeta (Linux KEY_ names without KEY_)"));
                i++;
            }
        }

        uint hold = 0;
        if (body.TryGetProperty("holdMs", out var holdMs) && !(holdMs.ValueKind == JsonValueKind.Number && holdMs.TryGetUInt32(out hold) && hold <= 10_000))
            errors.Add(new FieldError("holdMs", $"must be a whole number of milliseconds up to 10000, not {holdMs.GetRawText()}"));
        if (errors.Count > 0)
            return Problems.BadRequest(errors);
        var names = string.Join("+", keys.EnumerateArray().Select(k => k.ToString()));
        return await Control(api, name, $"send-key {names}", incarnation => new SendDomainKeys(name, codes, hold, incarnation));
    }

    /// <summary>Where the VM's VNC display is, read from its live domain XML (libvirt fills in the port it chose).</summary>
    private static async Task<IResult> Vnc(string name, ApiContext api)
    {
        var (target, problem) = await Host(api, name, "vnc");
        if (problem is not null)
            return problem;
        var details = await Ask<DomainDetails>(api, target!.Agent, new ReadDomain(name, target.Incarnation));
        if (details.Error is { } error)
            return Problems.Conflict(name, VmPhase.Running, error);
        var graphics = XDocument.Parse(details.Xml!).Root?.Element("devices")?.Elements("graphics").FirstOrDefault(g => (string?)g.Attribute("type") == "vnc");
        if (graphics is null)
            return Results.Json(new { Name = name, Node = details.Node, Vnc = (string?)null, Message = $"{name} has no VNC display; give it one with 'virt vm update {name} --vnc' (at its next start)" }, ApiJson.Options);
        var port = (int?)graphics.Attribute("port") ?? -1;
        var listen = (string?)graphics.Attribute("listen") ?? (string?)graphics.Element("listen")?.Attribute("address") ?? "127.0.0.1";
        if (listen is "0.0.0.0" or "::" or "")
            listen = target.Host ?? details.Node;
        if (port <= 0)
            return Results.Json(new { Name = name, Node = details.Node, Vnc = (string?)null, Message = $"{name}'s VNC display on {details.Node} has no port yet (libvirt gives it one when the domain starts)" }, ApiJson.Options);
        var address = listen.Contains(':') ? $"[{listen}]:{port}" : $"{listen}:{port}";
        return Results.Json(new { Name = name, Node = details.Node, Vnc = address, Message = $"{address} (on {details.Node}; connect with a VNC viewer, e.g. vncviewer {address})" }, ApiJson.Options);
    }

    private static async Task<IResult> Control(ApiContext api, string name, string action, Func<long, DomainControl> control)
    {
        var (target, problem) = await Host(api, name, action);
        if (problem is not null)
            return problem;
        var done = await Ask<DomainControlDone>(api, target!.Agent, control(target.Incarnation));
        return done.Error is { } error
            ? Problems.Conflict(name, VmPhase.Running, $"{action} was not done: {error}")
            : Results.Json(new { Name = name, Node = done.Node, Action = action, Message = $"{name}: {action} done on {done.Node}" }, ApiJson.Options);
    }

    /// <summary>The agent of the host the VM runs on, or why there is none.</summary>
    private static async Task<(Target? Target, IResult? Problem)> Host(ApiContext api, string name, string action)
    {
        if (!VmSpecValidator.IsValidName(name))
            return (null, Problems.NotFound(name));
        object reply;
        try
        {
            reply = await api.Ask<object>(api.Vms, new VmProtocol.Get(name));
        }
        catch (Akka.Actor.AskTimeoutException)
        {
            return (null, Problems.Timeout(api.Timeout));
        }

        if (reply is not VmView view)
            return (null, Problems.NotFound(name));
        if (view.State != VmPhase.Running || view.Node is not { } node)
            return (null, Problems.Conflict(name, view.State, $"it is {ApiJson.Name(view.State)}; {action} needs it running"));
        if (new ClusterNodeAgents(api.System).Find(node) is not { } agent)
            return (null, Problems.Unavailable($"its host {node} is not a member of the cluster"));
        var host = Akka.Cluster.Cluster.Get(api.System).State.Members.FirstOrDefault(m => m.UniqueAddress.Uid == agent.Incarnation)?.Address.Host;
        return (new Target(agent.Agent, agent.Incarnation, host), null);
    }

    private static Task<T> Ask<T>(ApiContext api, Akka.Actor.ICanTell agent, object message) => agent switch
    {
        Akka.Actor.IActorRef actor => actor.Ask<T>(message, api.Timeout),
        Akka.Actor.ActorSelection selection => selection.Ask<T>(message, api.Timeout),
        _ => throw new InvalidOperationException($"cannot ask {agent}"),
    };

    private sealed record Target(Akka.Actor.ICanTell Agent, long Incarnation, string? Host);
}
