using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Virt.Actors.Vm;

namespace Virt.Node.Api;

/// <summary>
/// The <c>Idempotency-Key</c> header of a create or a command: the VM stores it with the command's first event, so a
/// retry with the same key (after a lost answer, or a restart of the node) is answered with the VM as it is instead of
/// being done again (a create: 201, not 409). The key goes with a fingerprint of the request; the same key with
/// another request is a 422. Answers to retries carry <c>Idempotency-Replayed: true</c>.
/// </summary>
internal static class IdempotencyKey
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotency-Replayed";
    public const int MaxLength = 128;

    /// <summary>Refuses a malformed key on any request of the group before anything is done.</summary>
    public static async ValueTask<object?> Check(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var values = context.HttpContext.Request.Headers[Header];
        if (values.Count > 1)
            return Problems.BadQuery(Header, "is given twice; send one key per request");
        if (values.Count == 1 && values[0] is { } key && (key.Length is 0 or > MaxLength || key.Any(c => c < 0x21 || c > 0x7e)))
            return Problems.BadQuery(Header, $"must be 1 to {MaxLength} printable characters without spaces (a UUID is a good key), not '{key}'");
        return await next(context);
    }

    /// <summary>The request's key and fingerprint, or null when it has none. <paramref name="body"/>: the body as read.</summary>
    public static RequestStamp? Of(HttpRequest request, string? body = null)
    {
        if (request.Headers[Header] is not [{ Length: > 0 } key])
            return null;
        var text = $"{request.Method} {request.Path}{request.QueryString}\n{body}";
        return new RequestStamp(key, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32]);
    }

    /// <summary>An answer to a retry: <paramref name="inner"/> with <c>Idempotency-Replayed: true</c>.</summary>
    public static IResult Replayed(IResult inner) => new ReplayedResult(inner);

    public static IResult Reused(string vm, string key) =>
        Results.Problem(statusCode: 422, title: "idempotency key reused",
            detail: $"the Idempotency-Key '{key}' was used with another request for VM {vm}; nothing was done. Use a new key for a new request");

    private sealed class ReplayedResult(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers[ReplayedHeader] = "true";
            return inner.ExecuteAsync(httpContext);
        }
    }
}
