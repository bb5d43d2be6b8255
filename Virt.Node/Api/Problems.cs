using Microsoft.AspNetCore.Http;
using Virt.Actors.Vm;

namespace Virt.Node.Api;

/// <summary>Errors as RFC 9457 problem documents (application/problem+json), each saying what to do.</summary>
internal static class Problems
{
    public static IResult BadRequest(IEnumerable<FieldError> errors)
    {
        var list = errors.ToList();
        return Results.Problem(
            statusCode: 400,
            title: "invalid request",
            detail: string.Join("; ", list.Select(e => string.IsNullOrEmpty(e.Field) ? e.Message : $"{e.Field}: {e.Message}")),
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = list.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()),
            });
    }

    public static IResult NotFound(string name) =>
        Results.Problem(statusCode: 404, title: "no such VM", detail: $"no VM named '{name}'; 'virt vm list' shows the VMs there are");

    public static IResult Conflict(string name, VmPhase state, string reason) =>
        Results.Problem(statusCode: 409, title: "refused in this state", detail: $"VM {name}: {reason}",
            extensions: new Dictionary<string, object?> { ["state"] = ApiJson.Name(state), ["reason"] = reason });

    public static IResult Unavailable(string error) =>
        Results.Problem(statusCode: 503, title: "libvirt unavailable", detail: $"{error}; nothing was changed. Try again when 'virt node show' reports healthy");

    public static IResult Timeout(TimeSpan after) =>
        Results.Problem(statusCode: 504, title: "no answer in time", detail: $"virt-node did not answer within {after.TotalSeconds:0} s; the command may still complete, check with 'virt vm show'");
}
