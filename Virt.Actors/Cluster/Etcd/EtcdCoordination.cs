using System.Runtime.CompilerServices;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.Etcd.Mvccpb;
using Virt.Actors.Cluster.Etcd.Rpc;

namespace Virt.Actors.Cluster.Etcd;

/// <summary><see cref="ICoordination"/> on an etcd cluster: keys, compare-and-swap as transactions on mod revision, leases, watches.</summary>
internal sealed class EtcdCoordination(EtcdClient client) : ICoordination
{
    public EtcdCoordination(EtcdOptions options, ILogger log)
        : this(new EtcdClient(options, log))
    {
    }

    public EtcdClient Client => client;

    public async Task<KvEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var response = await client.RangeAsync(new RangeRequest { Key = Bytes(key) }, cancellationToken).ConfigureAwait(false);
        return response.Kvs.Count == 0 ? null : Entry(response.Kvs[0]);
    }

    public async Task<KvList> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var key = Bytes(prefix);
        var response = await client.RangeAsync(new RangeRequest { Key = key, RangeEnd = EtcdClient.PrefixEnd(key) }, cancellationToken).ConfigureAwait(false);
        return new KvList(response.Kvs.Select(Entry).ToList(), response.Header.Revision);
    }

    public async Task<long> PutAsync(string key, byte[] value, long lease = 0, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await client.PutAsync(new PutRequest { Key = Bytes(key), Value = ByteString.CopyFrom(value), Lease = lease }, cancellationToken).ConfigureAwait(false);
            return response.Header.Revision;
        }
        catch (EtcdException ex) when (ex.Code == (int)GrpcCode.NotFound)
        {
            throw NoLease(lease, ex);
        }
    }

    public async Task<long> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        (await client.DeleteRangeAsync(new DeleteRangeRequest { Key = Bytes(key) }, cancellationToken).ConfigureAwait(false)).Deleted;

    public async Task<CasResult> CompareAndSwapAsync(string key, long expectedModRevision, byte[] value, long lease = 0, CancellationToken cancellationToken = default)
    {
        var k = Bytes(key);
        var txn = new TxnRequest
        {
            Compare = { new Compare { Key = k, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expectedModRevision } },
            // The range after the put reads the entry as written, revisions included.
            Success =
            {
                new RequestOp { RequestPut = new PutRequest { Key = k, Value = ByteString.CopyFrom(value), Lease = lease } },
                new RequestOp { RequestRange = new RangeRequest { Key = k } },
            },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = k } } },
        };
        try
        {
            var response = await client.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
            return new CasResult(response.Succeeded, response.Header.Revision, Last(response));
        }
        catch (EtcdException ex) when (ex.Code == (int)GrpcCode.NotFound)
        {
            throw NoLease(lease, ex);
        }
    }

    public async Task<CasResult> CompareAndDeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken = default)
    {
        var k = Bytes(key);
        var txn = new TxnRequest
        {
            Compare = { new Compare { Key = k, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expectedModRevision } },
            Success = { new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = k } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = k } } },
        };
        var response = await client.TxnAsync(txn, cancellationToken).ConfigureAwait(false);

        // Comparing with a missing key compares with zeros; deleting nothing is not a success.
        var deleted = response.Succeeded && response.Responses[0].ResponseDeleteRange.Deleted > 0;
        return new CasResult(deleted, response.Header.Revision, response.Succeeded ? null : Last(response));
    }

    public async Task<long> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        var response = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)Math.Ceiling(ttl.TotalSeconds) }, cancellationToken).ConfigureAwait(false);
        return response.Error.Length > 0 ? throw new EtcdException((int)GrpcCode.Unknown, $"etcd refused the lease: {response.Error}") : response.ID;
    }

    public async Task<TimeSpan> KeepAliveAsync(long lease, CancellationToken cancellationToken = default)
    {
        var response = await client.LeaseKeepAliveAsync(new LeaseKeepAliveRequest { ID = lease }, cancellationToken).ConfigureAwait(false);
        return response.TTL > 0 ? TimeSpan.FromSeconds(response.TTL) : TimeSpan.Zero;
    }

    public async Task<TimeSpan?> TimeToLiveAsync(long lease, CancellationToken cancellationToken = default)
    {
        // etcd: whole seconds left, rounded down (0: under a second); -1: no such lease.
        var response = await client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease }, cancellationToken).ConfigureAwait(false);
        return response.TTL >= 0 ? TimeSpan.FromSeconds(response.TTL) : null;
    }

    public async Task RevokeLeaseAsync(long lease, CancellationToken cancellationToken = default)
    {
        try
        {
            await client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException ex) when (ex.Code == (int)GrpcCode.NotFound)
        {
            // Already gone: that is what revoking asks for.
        }
    }

    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long fromRevision, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var key = Bytes(prefix);
        await foreach (var e in client.WatchAsync(key, EtcdClient.PrefixEnd(key), fromRevision, cancellationToken).ConfigureAwait(false))
            yield return new WatchEvent(e.Type == Event.Types.EventType.Put ? WatchEventKind.Put : WatchEventKind.Delete, Entry(e.Kv));
    }

    public async Task CompactAsync(long revision, CancellationToken cancellationToken = default)
    {
        try
        {
            await client.CompactAsync(new CompactionRequest { Revision = revision }, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdCompactedException)
        {
            // Already compacted that far.
        }
    }

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }

    private static InvalidOperationException NoLease(long lease, Exception inner) =>
        new($"lease {lease:x} does not exist (it expired or was revoked)", inner);

    /// <summary>The key as the transaction's last operation (a range) read it.</summary>
    private static KvEntry? Last(TxnResponse response) =>
        response.Responses.Count > 0 && response.Responses[^1].ResponseRange is { Kvs.Count: > 0 } range ? Entry(range.Kvs[0]) : null;

    private static ByteString Bytes(string key) => ByteString.CopyFromUtf8(key);

    private static KvEntry Entry(KeyValue kv) =>
        new(kv.Key.ToStringUtf8(), kv.Value.ToByteArray(), kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);
}
