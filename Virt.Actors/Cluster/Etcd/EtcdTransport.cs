using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;

namespace Virt.Actors.Cluster.Etcd;

/// <summary>
/// gRPC calls to etcd carried by HttpClient over HTTP/2 (cleartext with prior knowledge, or TLS), because no gRPC
/// client package is available to us. Knows the members, sticks to one while it answers, and moves to the next when it
/// does not. Every call has a deadline. Every call carries etcd's <c>hasleader</c> metadata, so a member cut off from
/// its quorum refuses at once ("no leader") instead of letting the call hang.
/// </summary>
internal sealed class EtcdTransport : IDisposable
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new("application/grpc");
    private readonly HttpClient _http;
    private readonly Uri[] _endpoints;
    private readonly EtcdOptions _options;
    private int _current;

    public EtcdTransport(EtcdOptions options)
    {
        options.Validate();
        _options = options;
        _endpoints = options.Endpoints.Select(e => new Uri(e)).ToArray();
        _http = new HttpClient(Handler(options), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public IReadOnlyList<Uri> Endpoints => _endpoints;

    /// <summary>The member calls go to now.</summary>
    public Uri Current => _endpoints[Volatile.Read(ref _current)];

    /// <summary>Moves on from <paramref name="endpoint"/> if it is still the current member (another call may have moved already).</summary>
    public void Failed(Uri endpoint)
    {
        var index = Array.IndexOf(_endpoints, endpoint);
        if (index >= 0)
            Interlocked.CompareExchange(ref _current, (index + 1) % _endpoints.Length, index);
    }

    /// <summary>
    /// One request, one response, within the call timeout. Tries the next member when the current one cannot serve and
    /// a retry is safe: always when the request was not delivered or was refused for want of a leader; after an
    /// ambiguous failure (a timeout, a connection lost mid-call) only when <paramref name="idempotent"/>.
    /// </summary>
    public async Task<TResponse> CallAsync<TResponse>(string method, IMessage request, MessageParser<TResponse> parser, bool idempotent, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        var body = GrpcFrames.Encode(request);
        var started = Stopwatch.GetTimestamp();
        var failures = new List<EtcdUnavailableException>();
        for (var attempt = 0; attempt < _endpoints.Length; attempt++)
        {
            var left = _options.CallTimeout - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
                break;

            // An idempotent call keeps time for a second member, so one that hangs cannot eat the whole deadline.
            var budget = idempotent && _endpoints.Length > 1 ? TimeSpan.FromTicks(Math.Min(left.Ticks, _options.CallTimeout.Ticks / 2)) : left;
            var endpoint = Current;
            try
            {
                return await AttemptAsync(endpoint, method, body, parser, budget, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdUnavailableException ex)
            {
                Failed(endpoint);
                failures.Add(ex);
                if (ex.Sent && ex is not EtcdNotLeaderException && !idempotent)
                    throw;
            }
        }

        throw Summary(method, failures);
    }

    /// <summary>
    /// When no member could serve, what each one did: "no leader" from any of them is the diagnosis (quorum lost),
    /// even if others only timed out.
    /// </summary>
    private EtcdUnavailableException Summary(string method, List<EtcdUnavailableException> failures)
    {
        if (failures.Count == 0)
            return new EtcdDeadlineException($"etcd {EtcdException.Method(method)}: no answer within {_options.CallTimeout.TotalMilliseconds:0} ms", sent: false);
        if (failures.Count == 1)
            return failures[0];
        var sent = failures.Any(f => f.Sent && f is not EtcdNotLeaderException);
        var message = $"etcd {EtcdException.Method(method)} failed on every member tried: "
            + string.Join("; ", failures.Select(f => f.Message));
        return failures.Any(f => f is EtcdNotLeaderException) ? new EtcdNotLeaderException(message, sent)
            : failures[^1] is EtcdDeadlineException ? new EtcdDeadlineException(message, sent)
            : new EtcdUnavailableException(message, sent);
    }

    private async Task<TResponse> AttemptAsync<TResponse>(Uri endpoint, string method, byte[] body, MessageParser<TResponse> parser, TimeSpan budget, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        try
        {
            using var response = await SendAsync(endpoint, method, body, budget, deadline.Token).ConfigureAwait(false);
            var stream = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
            var message = await GrpcFrames.ReadAsync(stream, parser, deadline.Token).ConfigureAwait(false);
            while (await GrpcFrames.ReadAsync(stream, parser, deadline.Token).ConfigureAwait(false) is not null)
            {
                // A unary call has one message; read to the end so the trailers (grpc-status) arrive.
            }

            ThrowOnStatus(response.TrailingHeaders, endpoint, method);
            return message ?? throw new EtcdUnavailableException($"etcd {endpoint.Authority} {EtcdException.Method(method)}: answered without a message", sent: true);
        }
        catch (Exception ex) when (Translate(ex, endpoint, method, budget, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// A server-streaming call (a watch): the request is sent whole, then responses arrive until the stream ends,
    /// the member fails, or <paramref name="cancellationToken"/> fires. Errors come out as the typed etcd exceptions.
    /// </summary>
    public async IAsyncEnumerable<TResponse> StreamAsync<TResponse>(Uri endpoint, string method, IMessage request, MessageParser<TResponse> parser, [EnumeratorCancellation] CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        var (response, stream) = await OpenStreamAsync(endpoint, method, GrpcFrames.Encode(request), cancellationToken).ConfigureAwait(false);
        using (response)
        {
            while (await NextAsync(stream, parser, endpoint, method, cancellationToken).ConfigureAwait(false) is { } message)
                yield return message;
            ThrowOnStatus(response.TrailingHeaders, endpoint, method);
        }
    }

    private async Task<(HttpResponseMessage, Stream)> OpenStreamAsync(Uri endpoint, string method, byte[] body, CancellationToken cancellationToken)
    {
        using var opening = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        opening.CancelAfter(_options.CallTimeout);
        HttpResponseMessage? response = null;
        try
        {
            response = await SendAsync(endpoint, method, body, null, opening.Token).ConfigureAwait(false);
            return (response, await response.Content.ReadAsStreamAsync(opening.Token).ConfigureAwait(false));
        }
        catch (Exception ex) when (Translate(ex, endpoint, method, _options.CallTimeout, cancellationToken) is { } translated)
        {
            response?.Dispose();
            throw translated;
        }
    }

    private static async Task<T?> NextAsync<T>(Stream stream, MessageParser<T> parser, Uri endpoint, string method, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        try
        {
            return await GrpcFrames.ReadAsync(stream, parser, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(ex, endpoint, method, null, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Uri endpoint, string method, byte[] body, TimeSpan? budget, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = GrpcContentType;
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("hasleader", "true");
        if (budget is { } b)
            request.Headers.TryAddWithoutValidation("grpc-timeout", $"{Math.Max(1, (long)b.TotalMilliseconds)}m");
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.StatusCode != HttpStatusCode.OK)
                throw new EtcdUnavailableException($"etcd {endpoint.Authority} {EtcdException.Method(method)}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}; is this an etcd client URL?", sent: true);
            ThrowOnStatus(response.Headers, endpoint, method); // a "trailers-only" answer: the error is in the headers
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static void ThrowOnStatus(HttpHeaders headers, Uri endpoint, string method)
    {
        if (!headers.TryGetValues("grpc-status", out var values) || !int.TryParse(values.FirstOrDefault(), out var code) || code == 0)
            return;
        var message = headers.TryGetValues("grpc-message", out var m) ? Uri.UnescapeDataString(m.FirstOrDefault() ?? "") : "";
        throw EtcdException.FromStatus(code, message, endpoint, method);
    }

    /// <summary>Any failure of a call as one of the typed etcd exceptions; null (let it through) when the caller cancelled.</summary>
    private static Exception? Translate(Exception ex, Uri endpoint, string method, TimeSpan? budget, CancellationToken callerToken)
    {
        var where = $"etcd {endpoint.Authority} {EtcdException.Method(method)}";
        return ex switch
        {
            EtcdException or EtcdUnavailableException => null,
            OperationCanceledException when callerToken.IsCancellationRequested => null,
            OperationCanceledException => new EtcdDeadlineException($"{where}: no answer within {budget?.TotalMilliseconds ?? 0:0} ms", sent: true, ex),
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError } h =>
                new EtcdUnavailableException($"{where}: cannot connect ({h.Message})", sent: false, ex),
            HttpRequestException or IOException or InvalidDataException =>
                new EtcdUnavailableException($"{where}: the connection failed during the call ({ex.Message})", sent: true, ex),
            _ => null,
        };
    }

    private static SocketsHttpHandler Handler(EtcdOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.DialTimeout,
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = options.KeepaliveTime,
            KeepAlivePingTimeout = options.KeepaliveTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        };
        var tls = options.Tls;
        if (tls.CertFile.Length > 0)
            handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(tls.CertFile, tls.KeyFile)];
        if (tls.CaFile.Length > 0)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(tls.CaFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => TrustedBy(roots, certificate, errors);
        }

        return handler;
    }

    /// <summary>etcd's server certificate is good when it names the host and chains to one of <paramref name="roots"/>.</summary>
    private static bool TrustedBy(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    public void Dispose() => _http.Dispose();
}
