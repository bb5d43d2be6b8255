using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.Etcd.Rpc;

namespace Virt.Actors.Cluster.Etcd;

/// <summary>
/// The part of etcd's v3 API Virt uses (KV, Lease, Watch), as typed calls. Reads are
/// linearizable. Watches survive the loss of a member: they resume on another one from the revision after the last
/// event delivered, so no event is lost or repeated, and they end with <see cref="CompactedException"/> when that
/// history is gone.
/// </summary>
internal sealed class EtcdClient : IDisposable
{
    private const string Kv = "/etcdserverpb.KV/";
    private const string Lease = "/etcdserverpb.Lease/";
    private readonly EtcdTransport _transport;
    private readonly ILogger _log;

    public EtcdClient(EtcdOptions options, ILogger? log = null)
    {
        _transport = new EtcdTransport(options);
        _log = log ?? NullLogger.Instance;
    }

    public IReadOnlyList<Uri> Endpoints => _transport.Endpoints;

    /// <summary>The member calls go to now (it changes when that member stops answering).</summary>
    public Uri CurrentEndpoint => _transport.Current;

    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellationToken = default) =>
        _transport.CallAsync(Kv + "Range", request, RangeResponse.Parser, idempotent: true, cancellationToken);

    /// <summary>Idempotent in effect: writing the same value again is harmless.</summary>
    public Task<PutResponse> PutAsync(PutRequest request, CancellationToken cancellationToken = default) =>
        _transport.CallAsync(Kv + "Put", request, PutResponse.Parser, idempotent: true, cancellationToken);

    public Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellationToken = default) =>
        _transport.CallAsync(Kv + "DeleteRange", request, DeleteRangeResponse.Parser, idempotent: false, cancellationToken);

    /// <summary>Never retried after an ambiguous failure: a compare-and-swap applied twice would answer "conflict" for its own write.</summary>
    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken = default) =>
        _transport.CallAsync(Kv + "Txn", request, TxnResponse.Parser, idempotent: false, cancellationToken);

    public Task<CompactionResponse> CompactAsync(CompactionRequest request, CancellationToken cancellationToken = default) =>
        _transport.CallAsync(Kv + "Compact", request, CompactionResponse.Parser, idempotent: true, cancellationToken);

    /// <summary>A retried grant may leave an unused lease behind; it expires on its own.</summary>
    public Task<LeaseGrantResponse> LeaseGrantAsync(LeaseGrantRequest request, CancellationToken cancellationToken = default) =>
        _transport.CallAsync(Lease + "LeaseGrant", request, LeaseGrantResponse.Parser, idempotent: true, cancellationToken);

    public Task<LeaseRevokeResponse> LeaseRevokeAsync(LeaseRevokeRequest request, CancellationToken cancellationToken = default) =>
        _transport.CallAsync(Lease + "LeaseRevoke", request, LeaseRevokeResponse.Parser, idempotent: true, cancellationToken);

    /// <summary>
    /// One renewal. LeaseKeepAlive is a bidirectional stream; sent as a single request that then half-closes, etcd
    /// answers it and ends the stream, so each renewal is a short call that can fail over like any other.
    /// </summary>
    public Task<LeaseKeepAliveResponse> LeaseKeepAliveAsync(LeaseKeepAliveRequest request, CancellationToken cancellationToken = default) =>
        _transport.CallAsync(Lease + "LeaseKeepAlive", request, LeaseKeepAliveResponse.Parser, idempotent: true, cancellationToken);

    public Task<LeaseTimeToLiveResponse> LeaseTimeToLiveAsync(LeaseTimeToLiveRequest request, CancellationToken cancellationToken = default) =>
        _transport.CallAsync(Lease + "LeaseTimeToLive", request, LeaseTimeToLiveResponse.Parser, idempotent: true, cancellationToken);

    /// <summary>
    /// Events on keys in [<paramref name="key"/>, <paramref name="rangeEnd"/>) from <paramref name="fromRevision"/> on,
    /// in revision order, until cancelled. Reconnects (to the next member) whenever the stream breaks.
    /// </summary>
    public async IAsyncEnumerable<Mvccpb.Event> WatchAsync(ByteString key, ByteString rangeEnd, long fromRevision, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // The pump owns reconnection; a channel lets this enumerator yield while the pump catches errors.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var events = Channel.CreateBounded<Mvccpb.Event>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        var pump = Task.Run(() => Pump(events.Writer, key, rangeEnd, fromRevision, stop.Token), CancellationToken.None);
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return e;
        }
        finally
        {
            stop.Cancel();
            await pump.ConfigureAwait(false);
        }
    }

    private async Task Pump(ChannelWriter<Mvccpb.Event> writer, ByteString key, ByteString rangeEnd, long fromRevision, CancellationToken cancellationToken)
    {
        var next = fromRevision;
        var backoff = TimeSpan.FromMilliseconds(50);
        var name = key.ToStringUtf8();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var endpoint = _transport.Current;
                var create = new WatchRequest { CreateRequest = new WatchCreateRequest { Key = key, RangeEnd = rangeEnd, StartRevision = next } };
                try
                {
                    await foreach (var response in _transport.StreamAsync(endpoint, "/etcdserverpb.Watch/Watch", create, WatchResponse.Parser, cancellationToken).ConfigureAwait(false))
                    {
                        if (response.CompactRevision > 0)
                            throw new CompactedException(name, next, response.CompactRevision);
                        if (response.Canceled)
                            throw new EtcdUnavailableException($"etcd {endpoint.Authority} cancelled the watch of '{name}': {response.CancelReason}", sent: false);
                        backoff = TimeSpan.FromMilliseconds(50);
                        foreach (var e in response.Events)
                        {
                            await writer.WriteAsync(e, cancellationToken).ConfigureAwait(false);
                            next = e.Kv.ModRevision + 1;
                        }
                    }

                    throw new EtcdUnavailableException($"etcd {endpoint.Authority} ended the watch of '{name}'", sent: false);
                }
                catch (EtcdUnavailableException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    _log.LogInformation("watch of '{Key}' interrupted ({Error}); resuming from revision {Revision}", name, ex.Message, next);
                    _transport.Failed(endpoint);
                    await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
                }
            }

            writer.TryComplete();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
        }
    }

    /// <summary>The end of the range of every key starting with <paramref name="prefix"/> (etcd's "prefix end").</summary>
    public static ByteString PrefixEnd(ByteString prefix)
    {
        var bytes = prefix.ToByteArray();
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes, 0, i + 1);
            }
        }

        return ByteString.CopyFrom(0); // every key
    }

    public void Dispose() => _transport.Dispose();
}
