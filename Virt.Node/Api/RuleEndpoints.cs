using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Virt.Actors.Balancer;
using Virt.Actors.Vm;

namespace Virt.Node.Api;

/// <summary>
/// The balancer's placement rules at run time (<c>/v1/rules</c>), in the rule format of <c>virt plan</c> scenarios;
/// the engine's explanation of a VM's placement (<c>/v1/vms/{name}/why</c>); and the balancer's picture as a scenario
/// file <c>virt plan</c> reads (<c>/v1/cluster/snapshot</c>): one engine, two front ends.
/// </summary>
internal static class RuleEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/rules", Add);
        app.MapGet("/v1/rules", List);
        app.MapGet("/v1/rules/{name}", Show);
        app.MapDelete("/v1/rules/{name}", Remove);
        app.MapGet("/v1/vms/{name}/why", Why);
        app.MapGet("/v1/cluster/snapshot", Snapshot);
    }

    private static object Resource(BalancerProtocol.RuleAdded rule) => new { rule.Name, Rule = JsonNode.Parse(rule.Json), rule.Warnings };

    private static async Task<IResult> Add(HttpRequest request, ApiContext api)
    {
        string body;
        using (var reader = new StreamReader(request.Body))
            body = await reader.ReadToEndAsync();
        return await api.Ask<object>(api.Balancer, new BalancerProtocol.AddRule(body)) switch
        {
            BalancerProtocol.RuleAdded added => Results.Json(Resource(added), ApiJson.Options, statusCode: 201),
            BalancerProtocol.RuleRefused { Conflict: true } refused => Results.Problem(statusCode: 409, title: "rule exists", detail: refused.Reason),
            BalancerProtocol.RuleRefused refused => Problems.BadRequest([new Virt.Actors.Vm.FieldError("rule", $"{refused.Reason}; a rule is an object of the rules list of a virt plan scenario (see the README)")]),
            var other => throw new InvalidOperationException($"unexpected reply {other}"),
        };
    }

    private static async Task<IResult> List(ApiContext api) =>
        Results.Json((await api.Ask<BalancerProtocol.RuleList>(api.Balancer, new BalancerProtocol.GetRules())).Rules.Select(Resource), ApiJson.Options);

    private static async Task<IResult> Show(string name, ApiContext api) =>
        (await api.Ask<BalancerProtocol.RuleList>(api.Balancer, new BalancerProtocol.GetRules())).Rules.FirstOrDefault(r => r.Name == name) is { } rule
            ? Results.Json(Resource(rule), ApiJson.Options)
            : NoRule(name);

    private static async Task<IResult> Remove(string name, ApiContext api) =>
        (await api.Ask<BalancerProtocol.RuleRemoved>(api.Balancer, new BalancerProtocol.RemoveRule(name))).Existed ? Results.NoContent() : NoRule(name);

    private static IResult NoRule(string name) =>
        Results.Problem(statusCode: 404, title: "no such rule", detail: $"no rule named '{name}'; 'virt rule list' shows the rules there are");

    private static async Task<IResult> Why(string name, ApiContext api)
    {
        if (await VmItself(api, name) is not { } view)
            return Problems.NotFound(name);
        var explanation = await api.Ask<BalancerProtocol.Explanation>(api.Balancer, new BalancerProtocol.Explain(name, view));
        return explanation.Found ? Results.Json(new { Vm = name, explanation.Text }, ApiJson.Options) : Problems.NotFound(name);
    }

    /// <summary>The VM as its entity has it (null: no such VM): the balancer's picture may not show one created a moment ago on another node.</summary>
    private static async Task<VmView?> VmItself(ApiContext api, string name) => await api.Ask<object>(api.Vms, new VmProtocol.Get(name)) as VmView;

    private static async Task<IResult> Snapshot(HttpRequest request, ApiContext api)
    {
        var pending = request.Query.TryGetValue("pending", out var p) ? p.ToString() : null;
        var view = pending is null ? null : await VmItself(api, pending);
        if (pending is not null && view is null)
            return Problems.NotFound(pending);

        var snapshot = await api.Ask<BalancerProtocol.Snapshot>(api.Balancer, new BalancerProtocol.GetSnapshot(pending, view));
        return snapshot.Scenario is { } scenario ? Results.Text(scenario, "application/json") : Problems.NotFound(pending ?? "");
    }
}
