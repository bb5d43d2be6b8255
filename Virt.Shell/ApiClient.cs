using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Virt.Shell;

/// <summary>HTTP to a virt-node. Problem responses become <see cref="ApiException"/> carrying the server's own words.</summary>
internal sealed class ApiClient : IDisposable
{
    private const string IdempotencyHeader = "Idempotency-Key";
    private const string ReplayedHeader = "Idempotency-Replayed";
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private readonly HttpClient _http;

    public ApiClient(string address)
    {
        Address = address;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = ConnectTimeout }) { BaseAddress = new Uri(Normalize(address)), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Address { get; }

    public Uri BaseAddress => _http.BaseAddress!;

    public static string Default => Environment.GetEnvironmentVariable("VIRT_API") is { Length: > 0 } env ? env : "127.0.0.1:9110";

    public Task<JsonNode> Get(string path, CancellationToken cancellationToken = default) => Send(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonNode> Send(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken = default) =>
        Send(method, path, body, notFoundIsNull: false, null, null, cancellationToken)!;

    /// <summary>GET with the answer's ETag (the version of what was read; null when the node gives none).</summary>
    public async Task<(JsonNode Body, string? ETag)> GetTagged(string path, CancellationToken cancellationToken = default)
    {
        string? etag = null;
        var body = await Send(HttpMethod.Get, path, null, notFoundIsNull: false, null, r => etag = r.Headers.ETag?.ToString(), cancellationToken);
        return (body!, etag);
    }

    /// <summary>A change to be done only while what it changes is still version <paramref name="ifMatch"/> (an ETag); else a 412 <see cref="ApiException"/>.</summary>
    public Task<JsonNode> SendIfMatch(HttpMethod method, string path, JsonNode? body, string? ifMatch, CancellationToken cancellationToken = default) =>
        Send(method, path, body, notFoundIsNull: false, ifMatch, null, cancellationToken)!;

    /// <summary>GET that answers null for 404 (an endpoint an older node does not have).</summary>
    public Task<JsonNode?> GetIfPresent(string path, CancellationToken cancellationToken = default) => Send(HttpMethod.Get, path, null, notFoundIsNull: true, null, null, cancellationToken);

    /// <summary>Server-sent events from <paramref name="path"/>: each data line, until <paramref name="cancellationToken"/>.</summary>
    public async IAsyncEnumerable<JsonNode> Stream(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = ConnectTimeout }) { BaseAddress = _http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var response = await Call(() => client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken), cancellationToken);
        await EnsureSuccess(response);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
                yield return JsonNode.Parse(line[6..])!;
        }
    }

    /// <summary>
    /// Sends a request. A change (anything but GET) carries a fresh Idempotency-Key, and when the connection is lost
    /// before the answer it is sent once more with the same key: the node answers a retry of something it already did
    /// without doing it again, and says so, so the person learns whether the first attempt was applied.
    /// </summary>
    private async Task<JsonNode?> Send(HttpMethod method, string path, JsonNode? body, bool notFoundIsNull, string? ifMatch, Action<HttpResponseMessage>? seen, CancellationToken cancellationToken)
    {
        var key = method == HttpMethod.Get ? null : Guid.NewGuid().ToString();
        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(method, path);
            if (key is not null)
                request.Headers.Add(IdempotencyHeader, key);
            if (ifMatch is not null)
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            if (body is not null)
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            return request;
        }

        HttpResponseMessage response;
        using (var first = Request())
        {
            try
            {
                response = await Call(() => _http.SendAsync(first, cancellationToken), cancellationToken);
            }
            catch (UnreachableException lost) when (key is not null)
            {
                using var again = Request();
                try
                {
                    response = await Call(() => _http.SendAsync(again, cancellationToken), cancellationToken);
                }
                catch (UnreachableException)
                {
                    throw new UnreachableException($"{lost.Message}; sent twice, and no answer came, so it may or may not have been done: check with a 'show' command");
                }

                if (!Replayed(response))
                    Console.Error.WriteLine("virt: the connection was lost before the answer; the node had not done it, so it was sent again");
            }
        }

        // Also when .NET itself resent the request (it does, on a reused connection that closed before any answer).
        if (Replayed(response))
            Console.Error.WriteLine("virt: the connection was lost before the answer; the node had done it already (not again), and this is its answer");

        using var _ = response;
        if (notFoundIsNull && response.StatusCode == HttpStatusCode.NotFound)
            return null;
        await EnsureSuccess(response);
        seen?.Invoke(response);
        if (response.StatusCode == HttpStatusCode.NoContent)
            return new JsonObject();
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
    }

    private static bool Replayed(HttpResponseMessage response) => response.Headers.TryGetValues(ReplayedHeader, out var replayed) && replayed.Contains("true");

    private async Task<HttpResponseMessage> Call(Func<Task<HttpResponseMessage>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (HttpRequestException ex)
        {
            throw new UnreachableException($"cannot reach virt-node at {Address}: {ex.Message}; is virt-node running? Give another address with --api HOST:PORT or VIRT_API");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UnreachableException($"virt-node at {Address} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
    }

    private static async Task EnsureSuccess(HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode)
            return;
        var text = await response.Content.ReadAsStringAsync();
        string message;
        List<string>? errors = null;
        JsonNode? problem = null;
        try
        {
            problem = JsonNode.Parse(text);
            message = problem?["detail"]?.GetValue<string>() ?? problem?["title"]?.GetValue<string>() ?? text;
            if (problem?["errors"] is JsonObject fields)
            {
                errors = [.. fields.SelectMany(f => (f.Value as JsonArray ?? []).Select(m => string.IsNullOrEmpty(f.Key) ? $"{m}" : $"{f.Key}: {m}"))];
            }
        }
        catch (JsonException)
        {
            message = string.IsNullOrWhiteSpace(text) ? $"{(int)response.StatusCode} {response.ReasonPhrase}" : text;
        }

        throw new ApiException((int)response.StatusCode, message, errors, problem as JsonObject);
    }

    private static string Normalize(string address) =>
        address.StartsWith("http://", StringComparison.Ordinal) || address.StartsWith("https://", StringComparison.Ordinal) ? address : "http://" + address;

    public void Dispose() => _http.Dispose();
}

/// <summary>The node answered with an error; the message is its own.</summary>
internal sealed class ApiException(int status, string message, IReadOnlyList<string>? errors = null, JsonObject? problem = null) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>The problem document as the node sent it (its extensions: a 412's current <c>spec</c> and <c>etag</c>).</summary>
    public JsonObject? Problem { get; } = problem;

    /// <summary>Each problem of a 400 on its own ("field: what is wrong"), when the node listed them.</summary>
    public IReadOnlyList<string> Errors { get; } = errors is { Count: > 0 } ? errors : [message];
}

internal sealed class UnreachableException(string message) : Exception(message);
