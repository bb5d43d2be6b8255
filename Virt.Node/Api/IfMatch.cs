using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Virt.Actors.Vm;

namespace Virt.Node.Api;

/// <summary>
/// The spec's version as an HTTP entity tag: <c>GET /v1/vms/NAME/spec</c> gives it as <c>ETag</c>, and a PUT or PATCH
/// with <c>If-Match</c> is done only while the spec is still that version (412 and nothing changed otherwise), so a
/// change made on a spec someone else has changed since is never applied over theirs. Without the header, as before.
/// </summary>
internal sealed record IfMatch(bool Any, IReadOnlyList<string> Versions)
{
    public static string Tag(VmSpec spec) => $"\"{VmSpec.Version(spec)}\"";

    public bool Matches(string version) => Any || Versions.Contains(version);

    /// <summary>The request's If-Match: null when absent; a malformed one is a 400 that says what it should be.</summary>
    public static (IfMatch? Condition, IResult? Error) From(HttpRequest request)
    {
        var values = request.Headers.IfMatch;
        if (values.Count == 0)
            return (null, null);
        if (!EntityTagHeaderValue.TryParseList(values, out var tags) || tags.Count == 0)
            return (null, Problems.BadRequest([new FieldError("If-Match", $"'{values}' is not an entity tag; send the ETag that GET /v1/vms/NAME/spec gave, quotes included (If-Match: \"0123abcd...\")")]));
        if (tags.Any(t => t.Tag == "*"))
            return (new IfMatch(true, []), null);
        // If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches.
        return (new IfMatch(false, tags.Where(t => !t.IsWeak).Select(t => t.Tag.Value!.Trim('"')).ToList()), null);
    }

    public static IResult Failed(string name, IfMatch condition, VmSpec current) =>
        Results.Problem(statusCode: 412, title: "spec changed",
            detail: $"VM {name}: its spec changed since you read it (you sent If-Match {string.Join(", ", condition.Versions.Select(v => $"\"{v}\""))}, it is now {Tag(current)}); nothing was changed. " +
                    $"Read it again (GET /v1/vms/{name}/spec, or 'virt vm edit {name}') and make your change on the spec as it is now",
            extensions: new Dictionary<string, object?> { ["etag"] = Tag(current), ["spec"] = SpecDocument.Of(current) });
}
