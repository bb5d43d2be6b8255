using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Index;
using Virt.Actors.Vm;
using Virt.Node.Agent;

namespace Virt.Node.Api;

/// <summary>
/// /v1/vms: create, list, show, update, start, stop, restart, delete, clear-failures. A command goes to the VM's
/// entity (wherever its shard lives) and is answered only after its events are stored; a start only once it is
/// placed. Commands that need libvirt are refused (503, nothing stored) while it is unreachable. Listing reads the
/// VM index, never every entity.
/// </summary>
internal static class VmEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var vms = app.MapGroup("/v1/vms");
        vms.AddEndpointFilter(IdempotencyKey.Check);
        vms.MapPost("", Create);
        vms.MapGet("", List);
        vms.MapPost("/clear-failures", (HttpRequest request, ApiContext api) =>
            Flag(request, "all") switch
            {
                (_, { } bad) => Task.FromResult(bad),
                (true, _) => ClearAllFailures(api),
                _ => Task.FromResult(Problems.BadQuery("all", "give a VM name (POST /v1/vms/NAME/clear-failures), or all=true for every VM")),
            });
        vms.MapPost("/start", (HttpRequest request, ApiContext api) => Bulk(request, api, "start", () => new VmCommand.Start()));
        vms.MapPost("/stop", (HttpRequest request, ApiContext api) =>
            Flag(request, "force") is var (force, bad) && bad is not null ? Task.FromResult(bad) : Bulk(request, api, "stop", () => new VmCommand.Stop(force)));
        vms.MapGet("/{name}", Show);
        vms.MapPut("/{name}", Update);
        vms.MapPatch("/{name}", Patch);
        vms.MapGet("/{name}/spec", Spec);
        vms.MapPost("/{name}/start", (string name, HttpRequest request, ApiContext api) =>
            request.Query.ContainsKey("label") ? Task.FromResult(NameAndLabel(name))
            : request.Query.TryGetValue("node", out var pin) && !VmSpecValidator.IsValidName(pin.ToString())
                ? Task.FromResult(Problems.BadQuery("node", $"'{pin}' is not a node name; 'virt cluster show' lists the members"))
                : Command(api, name, new VmCommand.Start(request.Query.TryGetValue("node", out var node) ? node.ToString() : null), needsLibvirt: true, IdempotencyKey.Of(request)));
        vms.MapPost("/{name}/stop", (string name, HttpRequest request, ApiContext api) =>
            request.Query.ContainsKey("label") ? Task.FromResult(NameAndLabel(name)) :
            Flag(request, "force") is var (force, bad) && bad is not null ? Task.FromResult(bad) : Command(api, name, new VmCommand.Stop(force), needsLibvirt: true, IdempotencyKey.Of(request)));
        vms.MapPost("/{name}/restart", (string name, HttpRequest request, ApiContext api) => Command(api, name, new VmCommand.Restart(), needsLibvirt: true, IdempotencyKey.Of(request)));
        vms.MapPost("/{name}/clear-failures", (string name, HttpRequest request, ApiContext api) => Command(api, name, new VmCommand.ClearFailures(), needsLibvirt: false, IdempotencyKey.Of(request)));
        vms.MapDelete("/{name}", (string name, HttpRequest request, ApiContext api) =>
            Flag(request, "force") is var (force, bad) && bad is not null ? Task.FromResult(bad) : Command(api, name, new VmCommand.Delete(force), needsLibvirt: true, IdempotencyKey.Of(request)));
    }

    private static IResult NameAndLabel(string name) =>
        Problems.BadQuery("label", $"give a VM name ({name}) or labels, not both: with labels the command is for every VM that has them");

    /// <summary>A boolean query parameter: absent is false; anything but true/false is a 400 that says so.</summary>
    internal static (bool Value, IResult? Error) Flag(HttpRequest request, string name)
    {
        if (!request.Query.TryGetValue(name, out var values) || values.Count == 0)
            return (false, null);
        return values.ToString().ToLowerInvariant() switch
        {
            "true" or "" => (true, null),
            "false" => (false, null),
            var other => (false, Problems.BadQuery(name, $"'{other}' is not true or false")),
        };
    }

    private static async Task<IResult> Create(HttpRequest request, ApiContext api)
    {
        var (body, error) = await ReadBody(request);
        if (error is not null)
            return error;
        var (spec, errors) = VmRequest.Read(body);
        if (spec is null)
            return Problems.BadRequest(errors);
        return await Command(api, spec.Name, new VmCommand.Define(spec), needsLibvirt: false, IdempotencyKey.Of(request, body.GetRawText()), created: true);
    }

    /// <summary><c>PUT /v1/vms/NAME</c>: the whole spec; with <c>If-Match</c>, only while the spec is still that version (else 412).</summary>
    private static async Task<IResult> Update(string name, HttpRequest request, ApiContext api)
    {
        var (condition, bad) = IfMatch.From(request);
        if (bad is not null)
            return bad;
        var (body, error) = await ReadBody(request);
        if (error is not null)
            return error;
        var current = await Ask(api, new VmProtocol.Get(name));
        if (current is not VmView view)
            return current as IResult ?? Problems.NotFound(name);
        var (spec, errors) = VmRequest.Read(body, name);
        if (spec is null)
            return Problems.BadRequest(errors);
        var basis = view.PendingSpec ?? view.Spec;
        if (condition is not null && !condition.Matches(VmSpec.Version(basis)))
            return IfMatch.Failed(name, condition, basis);
        var keepUuid = body.TryGetProperty("uuid", out _) ? spec : spec with { Uuid = view.Spec.Uuid };
        var (answer, changed) = await UpdateSpec(api, request, name, keepUuid, condition is null ? null : VmSpec.Version(basis), body.GetRawText());
        return changed is not null ? IfMatch.Failed(name, condition!, changed) : answer;
    }

    /// <summary>
    /// <c>PATCH /v1/vms/NAME</c>: a JSON merge patch onto the spec the VM will have (its pending one, if any), checked
    /// as a whole spec, so an unknown field or a bad value is a 400 and nothing changes. The merged spec is stored only
    /// if the spec it was merged onto is still the VM's (a change in between is merged onto again), and with
    /// <c>If-Match</c> only if that spec is the version named (else 412).
    /// </summary>
    private static async Task<IResult> Patch(string name, HttpRequest request, ApiContext api)
    {
        var (condition, bad) = IfMatch.From(request);
        if (bad is not null)
            return bad;
        var (body, error) = await ReadBody(request);
        if (error is not null)
            return error;
        if (body.ValueKind != JsonValueKind.Object)
            return Problems.BadRequest([new FieldError("", "the body must be a JSON object with the fields to change, like {\"memory\": \"8GiB\"}")]);
        for (var attempt = 1; ; attempt++)
        {
            var current = await Ask(api, new VmProtocol.Get(name));
            if (current is not VmView view)
                return current as IResult ?? Problems.NotFound(name);
            var basis = view.PendingSpec ?? view.Spec;
            if (condition is not null && !condition.Matches(VmSpec.Version(basis)))
                return IfMatch.Failed(name, condition, basis);
            var merged = SpecDocument.Merge(basis, body);
            var (spec, errors) = VmRequest.Read(JsonSerializer.SerializeToElement(merged), name);
            if (spec is null)
                return Problems.BadRequest(errors);
            var (answer, changed) = await UpdateSpec(api, request, name, spec, VmSpec.Version(basis), body.GetRawText());
            if (changed is null)
                return answer;
            if (condition is not null)
                return IfMatch.Failed(name, condition, changed);
            if (attempt == 3)
                return Problems.Conflict(name, view.State, "its spec kept changing while this patch was merged onto it (three times); nothing was changed by this patch, send it again");
        }
    }

    /// <summary>
    /// Sends the new spec, to be stored only while the spec is still version <paramref name="ifVersion"/> (null: whatever
    /// it is). The answer, with an ETag of the spec stored; or, when the spec was another version by then, that spec.
    /// </summary>
    private static async Task<(IResult Answer, VmSpec? ChangedTo)> UpdateSpec(ApiContext api, HttpRequest request, string name, VmSpec spec, string? ifVersion, string fingerprint)
    {
        var reply = await Ask(api, new VmProtocol.Command(name, new VmCommand.UpdateSpec(spec, ifVersion), IdempotencyKey.Of(request, fingerprint)));
        if (reply is VmProtocol.Result { Accepted: false, Replayed: false, View: { } refusedOn } && ifVersion is not null && VmSpec.Version(refusedOn.PendingSpec ?? refusedOn.Spec) != ifVersion)
            return (Results.Empty, refusedOn.PendingSpec ?? refusedOn.Spec);
        if (reply is VmProtocol.Result { View: { } after })
            request.HttpContext.Response.Headers.ETag = IfMatch.Tag(after.PendingSpec ?? after.Spec);
        return (Answer(name, reply, new VmCommand.UpdateSpec(spec)), null);
    }

    /// <summary><c>GET /v1/vms/NAME/spec</c>: the spec it will start with, as a body PUT takes back (what <c>virt vm edit</c> opens), and its version as ETag.</summary>
    private static async Task<IResult> Spec(string name, HttpResponse response, ApiContext api)
    {
        switch (await Ask(api, new VmProtocol.Get(name)))
        {
            case VmView view:
                response.Headers.ETag = IfMatch.Tag(view.PendingSpec ?? view.Spec);
                return Results.Json(SpecDocument.Of(view.PendingSpec ?? view.Spec), ApiJson.Options);
            case VmProtocol.NotFound:
                return Problems.NotFound(name);
            case IResult problem:
                return problem;
            case var other:
                throw new InvalidOperationException($"unexpected reply {other}");
        }
    }

    private static async Task<IResult> List(HttpRequest request, ApiContext api)
    {
        var (selector, bad) = LabelSelector.From(request);
        if (bad is not null)
            return bad;
        try
        {
            var listing = await api.Ask<VmIndexProtocol.Listing>(api.Index, new VmIndexProtocol.List());
            return Results.Json(listing.Vms.Where(v => selector.Matches(v.Spec!)).Select(v => VmResource.Of(api.View(v))), ApiJson.Options);
        }
        catch (Akka.Actor.AskTimeoutException)
        {
            return Problems.Timeout(api.Timeout);
        }
    }

    private static async Task<IResult> Show(string name, ApiContext api) =>
        await Ask(api, new VmProtocol.Get(name)) switch
        {
            VmView view => Results.Json(VmResource.Of(view), ApiJson.Options),
            VmProtocol.NotFound => Problems.NotFound(name),
            IResult problem => problem,
            var other => throw new InvalidOperationException($"unexpected reply {other}"),
        };

    /// <summary><c>POST /v1/vms/clear-failures?all=true</c>: every VM with failures or counted restarts forgets them; the answer names them.</summary>
    private static async Task<IResult> ClearAllFailures(ApiContext api)
    {
        if (await api.Listing() is not { } listing)
            return Problems.Timeout(api.Timeout);

        var names = listing.Vms.Where(v => v.Restarts.Count > 0 || v.FailureReasons.Count > 0 || v.Phase == VmPhase.Failed).Select(v => v.Spec!.Name).ToList();
        var results = await Task.WhenAll(names.Select(async n => (Name: n, Reply: await Ask(api, new VmProtocol.Command(n, new VmCommand.ClearFailures())))));
        var cleared = results.Where(r => r.Reply is VmProtocol.Result { Accepted: true }).Select(r => r.Name).ToList();
        var refused = results.Where(r => r.Reply is not VmProtocol.Result { Accepted: true })
            .ToDictionary(r => r.Name, r => r.Reply is VmProtocol.Result res ? res.Reason : "no answer in time");
        var message = cleared.Count == 0 && refused.Count == 0
            ? "no VM had failures or restarts to clear"
            : $"cleared the failures of {cleared.Count} VM(s){(cleared.Count > 0 ? ": " + string.Join(", ", cleared) : "")}" +
              (refused.Count > 0 ? $"; {refused.Count} did not answer: {string.Join(", ", refused.Keys)}" : "");
        return Results.Json(new { Cleared = cleared, Refused = refused, Message = message }, ApiJson.Options);
    }

    /// <summary>
    /// <c>POST /v1/vms/start|stop?label=KEY=VALUE</c>: the command for every VM with those labels, each answered as
    /// its own command would be (a start once placed). The answer lists each VM's outcome and names the refused ones;
    /// it is 200 even when some refused, since the others were done.
    /// </summary>
    /// <remarks>With an Idempotency-Key, each VM's command gets the key and the VM's name: a retry repeats none of them.</remarks>
    private static async Task<IResult> Bulk(HttpRequest request, ApiContext api, string verb, Func<VmCommand> command)
    {
        var (selector, bad) = LabelSelector.From(request);
        if (bad is not null)
            return bad;
        if (selector.IsEmpty)
            return Problems.BadQuery("label", $"give a VM name (POST /v1/vms/NAME/{verb}), or label=KEY=VALUE for every VM with that label");
        if (await api.Listing() is not { } listing)
            return Problems.Timeout(api.Timeout);

        var names = listing.Vms.Where(v => v.Exists && selector.Matches(v.Spec!)).Select(v => v.Spec!.Name).Order(StringComparer.Ordinal).ToList();
        var stamp = IdempotencyKey.Of(request);
        var outcomes = await Task.WhenAll(names.Select(name => Outcome(api, name, command(), stamp is null ? null : stamp with { Key = $"{stamp.Key}/{name}" })));
        var refused = outcomes.Where(o => o["accepted"]?.GetValue<bool>() != true).Select(o => o["name"]!.GetValue<string>()).ToList();
        var message = names.Count == 0
            ? $"no VM has the label(s) {selector}; 'virt vm list' shows the VMs and their labels"
            : $"{verb}: {names.Count - refused.Count} of {names.Count} VM(s) with {selector} accepted{(refused.Count > 0 ? $"; refused: {string.Join(", ", refused)}" : "")}";
        return Results.Json(new { Vms = outcomes, Refused = refused, Message = message }, ApiJson.Options);
    }

    /// <summary>One VM's part of a bulk answer: its name, whether the command was accepted, its state, and why not.</summary>
    private static async Task<System.Text.Json.Nodes.JsonObject> Outcome(ApiContext api, string name, VmCommand command, RequestStamp? stamp)
    {
        System.Text.Json.Nodes.JsonObject Of(bool accepted, VmPhase? state, string? reason, string? lastError = null)
        {
            var outcome = new System.Text.Json.Nodes.JsonObject { ["name"] = name, ["accepted"] = accepted, ["state"] = state is { } p ? ApiJson.Name(p) : null };
            if (reason is not null)
                outcome["reason"] = reason;
            if (lastError is not null)
                outcome["lastError"] = lastError;
            return outcome;
        }

        if (await Unreachable(api, name, command) is { } unavailable)
            return Of(false, null, $"{unavailable}; nothing was changed");
        return await Ask(api, new VmProtocol.Command(name, command, stamp)) switch
        {
            VmProtocol.Result { Accepted: true } ok => Of(true, ok.Phase, null, ok.View?.LastError),
            VmProtocol.KeyReused reused => Of(false, null, $"the Idempotency-Key '{reused.Key}' was used with another request; nothing was done"),
            VmProtocol.Result refused => Of(false, refused.Phase, refused.Reason),
            VmProtocol.NotFound => Of(false, null, "it no longer exists"),
            _ => Of(false, null, $"no answer within {api.Timeout.TotalSeconds:0} s; it may still be done, check with 'virt vm show {name}'"),
        };
    }

    /// <param name="request">The Idempotency-Key and fingerprint, if the client sent a key.</param>
    private static async Task<IResult> Command(ApiContext api, string name, VmCommand command, bool needsLibvirt, RequestStamp? request = null, bool created = false)
    {
        if (!VmSpecValidator.IsValidName(name))
            return command is VmCommand.Define ? Problems.BadRequest([new FieldError("name", $"'{name}' is not a valid VM name: use {VmSpecValidator.NameRuleText}")]) : Problems.NotFound(name);
        if (needsLibvirt && await Unreachable(api, name, command) is { } unavailable)
            return Problems.Unavailable(unavailable);

        return Answer(name, await Ask(api, new VmProtocol.Command(name, command, request)), command, created);
    }

    /// <summary>What the VM's entity answered to <paramref name="command"/>, as the API's answer.</summary>
    private static IResult Answer(string name, object reply, VmCommand command, bool created = false) =>
        reply switch
        {
            VmProtocol.NotFound => Problems.NotFound(name),
            VmProtocol.KeyReused reused => IdempotencyKey.Reused(name, reused.Key),
            VmProtocol.Result { Replayed: true, View: { } view } when created => IdempotencyKey.Replayed(Results.Json(VmResource.Of(view), ApiJson.Options, statusCode: 201)),
            VmProtocol.Result { Replayed: true, View: { } view } => IdempotencyKey.Replayed(Results.Json(VmResource.Of(view), ApiJson.Options, statusCode: 200)),
            VmProtocol.Result { Replayed: true } => IdempotencyKey.Replayed(Results.NoContent()),
            VmProtocol.Result { Accepted: false } refused when command is VmCommand.Define =>
                Results.Problem(statusCode: 409, title: "already exists", detail: $"{refused.Reason}; choose another name, or delete it first"),
            VmProtocol.Result { Accepted: false } refused => Problems.Conflict(name, refused.Phase, refused.Reason!),
            VmProtocol.Result { View: { } view } when created => Results.Json(VmResource.Of(view), ApiJson.Options, statusCode: 201),
            VmProtocol.Result { View: { } view } ok => Results.Json(VmResource.Of(view), ApiJson.Options, statusCode: ok.Events > 0 ? 202 : 200),
            VmProtocol.Result => Results.NoContent(),
            IResult problem => problem,
            var other => throw new InvalidOperationException($"unexpected reply {other}"),
        };

    /// <summary>
    /// A command that needs libvirt is refused (nothing stored) when the libvirt it needs is unreachable: for a start,
    /// every host's (or the pinned one's); otherwise the libvirt of the host the VM is on. This node's own libvirt
    /// says nothing about a VM on another host. Hosts are as the balancer last heard from their agents.
    /// </summary>
    /// <returns>What is unreachable, or null.</returns>
    private static async Task<string?> Unreachable(ApiContext api, string name, VmCommand command)
    {
        var hosts = (await api.Hosts.Get()).Reports;
        var local = hosts.FirstOrDefault(h => h.Node == api.NodeName);
        if (local is null)
        {
            // The balancer has not heard from this host yet: this node's own agent knows.
            var health = await api.Ask<Health>(api.Agent, new GetHealth());
            if (!health.Healthy && hosts.Count == 0)
                return health.Error ?? "libvirt is unreachable";
        }

        if (command is VmCommand.Start start)
        {
            var candidates = hosts.Where(h => start.Pin is null || h.Node == start.Pin).ToList();
            return candidates.Count > 0 && candidates.All(h => !h.Available)
                ? $"libvirt is unreachable on {string.Join(", ", candidates.Select(h => h.Node))}"
                : null;
        }

        if (hosts.All(h => h.Available))
            return null; // wherever the VM is, its libvirt is reachable: no need to ask the VM where that is
        if (await Ask(api, new VmProtocol.Get(name)) is VmView { Node: { } node } && hosts.FirstOrDefault(h => h.Node == node) is { Available: false })
            return $"libvirt is unreachable on {node}, where {name} is";
        return null;
    }

    private static async Task<object> Ask(ApiContext api, object message)
    {
        try
        {
            return await api.Ask<object>(api.Vms, message);
        }
        catch (Akka.Actor.AskTimeoutException)
        {
            return Problems.Timeout(api.Timeout);
        }
    }

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 16 };

    private static async Task<(JsonElement Body, IResult? Error)> ReadBody(HttpRequest request)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, Strict);
            return (document.RootElement.Clone(), null);
        }
        catch (JsonException ex)
        {
            var what = ex.Message.Split(" LineNumber:")[0].Split(" Path:")[0];
            if (System.Text.RegularExpressions.Regex.Match(what, "Duplicate property '([^']*)'") is { Success: true } duplicate)
                return (default, Problems.BadRequest([new FieldError(duplicate.Groups[1].Value, "appears twice in one object; give each field once")]));
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "";
            return (default, Problems.BadRequest([new FieldError("body", $"not valid JSON{where}: {what}")]));
        }
    }
}
