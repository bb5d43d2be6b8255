using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Fsm;
using Virt.Actors.Runtime;
using Virt.Actors.Vm;
using Virt.Node.Agent;
using Virt.Node.Hosting;

namespace Virt.Node.Api;

/// <summary>
/// /v1/vms: create, list, show, update, start, stop, restart, delete, clear-failures. A command is answered only
/// after its events are stored; commands that need libvirt are refused (503, nothing stored) while it is unreachable.
/// </summary>
internal static class VmEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var vms = app.MapGroup("/v1/vms");
        vms.MapPost("", Create);
        vms.MapGet("", List);
        vms.MapGet("/{name}", Show);
        vms.MapPut("/{name}", Update);
        vms.MapPost("/{name}/start", (string name, NodeRuntime rt) => Command(rt, name, new VmCommand.Start(), needsLibvirt: true));
        vms.MapPost("/{name}/stop", (string name, bool? force, NodeRuntime rt) => Command(rt, name, new VmCommand.Stop(force ?? false), needsLibvirt: true));
        vms.MapPost("/{name}/restart", (string name, NodeRuntime rt) => Command(rt, name, new VmCommand.Restart(), needsLibvirt: true));
        vms.MapPost("/{name}/clear-failures", (string name, NodeRuntime rt) => Command(rt, name, new VmCommand.ClearFailures(), needsLibvirt: false));
        vms.MapDelete("/{name}", (string name, bool? force, NodeRuntime rt) => Command(rt, name, new VmCommand.Delete(force ?? false), needsLibvirt: true));
    }

    private static async Task<IResult> Create(HttpRequest request, NodeRuntime rt)
    {
        var (body, error) = await ReadBody(request);
        if (error is not null)
            return error;
        var (spec, errors) = VmRequest.Read(body);
        if (spec is null)
            return Problems.BadRequest(errors);
        return await Command(rt, spec.Name, new VmCommand.Define(spec), needsLibvirt: false, created: true);
    }

    private static async Task<IResult> Update(string name, HttpRequest request, NodeRuntime rt)
    {
        var (body, error) = await ReadBody(request);
        if (error is not null)
            return error;
        var current = await Ask(rt, new VmProtocol.GetVm(name));
        if (current is not VmView view)
            return current as IResult ?? Problems.NotFound(name);
        var (spec, errors) = VmRequest.Read(body, name);
        if (spec is null)
            return Problems.BadRequest(errors);
        var keepUuid = body.TryGetProperty("uuid", out _) ? spec : spec with { Uuid = view.Spec.Uuid };
        return await Command(rt, name, new VmCommand.UpdateSpec(keepUuid), needsLibvirt: false);
    }

    private static async Task<IResult> List(NodeRuntime rt) =>
        await Ask(rt, new VmProtocol.ListVms()) switch
        {
            List<VmView> views => Results.Json(views.Select(VmResource.Of), ApiJson.Options),
            IResult problem => problem,
            var other => throw new InvalidOperationException($"unexpected reply {other}"),
        };

    private static async Task<IResult> Show(string name, NodeRuntime rt) =>
        await Ask(rt, new VmProtocol.GetVm(name)) switch
        {
            VmView view => Results.Json(VmResource.Of(view), ApiJson.Options),
            VmProtocol.NotFound => Problems.NotFound(name),
            IResult problem => problem,
            var other => throw new InvalidOperationException($"unexpected reply {other}"),
        };

    private static async Task<IResult> Command(NodeRuntime rt, string name, VmCommand command, bool needsLibvirt, bool created = false)
    {
        if (needsLibvirt)
        {
            var health = await rt.Agent.Ask<Health>(new GetHealth(), rt.Timeout);
            if (!health.Healthy)
                return Problems.Unavailable(health.Error ?? "libvirt is unreachable");
        }

        return await Ask(rt, new VmProtocol.ToVm(name, command)) switch
        {
            VmProtocol.NotFound => Problems.NotFound(name),
            CommandResult<VmState, VmEvent> { Accepted: false } refused when command is VmCommand.Define =>
                Results.Problem(statusCode: 409, title: "already exists", detail: $"{refused.Reason}; choose another name, or delete it first"),
            CommandResult<VmState, VmEvent> { Accepted: false } refused => Problems.Conflict(name, refused.State.Phase, refused.Reason!),
            CommandResult<VmState, VmEvent> ok when created =>
                Results.Json(VmResource.Of(VmView.Of(ok.State, rt.Defaults, rt.System.Time.GetUtcNow())), ApiJson.Options, statusCode: 201),
            CommandResult<VmState, VmEvent> ok => ok.State.Exists
                ? Results.Json(VmResource.Of(VmView.Of(ok.State, rt.Defaults, rt.System.Time.GetUtcNow())), ApiJson.Options, statusCode: ok.Events.Count > 0 ? 202 : 200)
                : Results.NoContent(),
            IResult problem => problem,
            var other => throw new InvalidOperationException($"unexpected reply {other}"),
        };
    }

    private static async Task<object> Ask(NodeRuntime rt, object message)
    {
        try
        {
            return await rt.Directory.Ask<object>(message, rt.Timeout);
        }
        catch (AskTimeoutException)
        {
            return Problems.Timeout(rt.Timeout);
        }
    }

    private static async Task<(JsonElement Body, IResult? Error)> ReadBody(HttpRequest request)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body);
            return (document.RootElement.Clone(), null);
        }
        catch (JsonException ex)
        {
            var what = ex.Message.Split(" LineNumber:")[0];
            return (default, Problems.BadRequest([new FieldError("body", $"not valid JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}: {what}")]));
        }
    }
}
