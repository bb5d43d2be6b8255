using Microsoft.AspNetCore.Http;
using Virt.Actors.Vm;

namespace Virt.Node.Api;

/// <summary>Errors as RFC 9457 problem documents (application/problem+json), each saying what to do.</summary>
internal static class Problems
{
    /// <summary>At most this many problems are spelled out in <c>detail</c>; the rest are counted.</summary>
    private const int Shown = 5;

    public static IResult BadRequest(IEnumerable<FieldError> errors)
    {
        var list = errors.ToList();
        var detail = string.Join("; ", list.Take(Shown).Select(e => string.IsNullOrEmpty(e.Field) ? e.Message : $"{e.Field}: {e.Message}"));
        if (list.Count > Shown)
            detail += $"; and {list.Count - Shown} more problem(s)";
        return Results.Problem(
            statusCode: 400,
            title: "invalid request",
            detail: detail,
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = list.Take(50).GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()),
                ["errorCount"] = list.Count,
            });
    }

    public static IResult BadQuery(string parameter, string message) => BadRequest([new FieldError(parameter, message)]);

    public static IResult TooLarge(long limit) =>
        Results.Problem(statusCode: 413, title: "request too large",
            detail: $"the request body is larger than the {limit / 1024} KiB virt.api.max-body allows; a VM spec is a few KiB");

    public static IResult NotFound(string name) =>
        Results.Problem(statusCode: 404, title: "no such VM", detail: $"no VM named '{name}'; 'virt vm list' shows the VMs there are");

    public static IResult NoSuchEndpoint(string method, string path) =>
        Results.Problem(statusCode: 404, title: "no such endpoint",
            detail: $"there is no {method} {path}; the README lists the API (for example GET /v1/vms, POST /v1/vms/NAME/start)");

    public static IResult MethodNotAllowed(string method, string path) =>
        Results.Problem(statusCode: 405, title: "method not allowed", detail: $"{path} does not take {method}; the README lists the API");

    public static IResult Conflict(string name, VmPhase state, string reason) =>
        Results.Problem(statusCode: 409, title: "refused in this state", detail: $"VM {name}: {reason}",
            extensions: new Dictionary<string, object?> { ["state"] = ApiJson.Name(state), ["reason"] = reason });

    public static IResult Unavailable(string error) =>
        Results.Problem(statusCode: 503, title: "libvirt unavailable", detail: $"{error}; nothing was changed. Try again when 'virt node show' reports healthy");

    public static IResult Timeout(TimeSpan after) =>
        Results.Problem(statusCode: 504, title: "no answer in time", detail: $"virt-node did not answer within {after.TotalSeconds:0} s; the command may still complete, check with 'virt vm show'");
}
