using Virt.Actors.Cluster.Coordination;

namespace Virt.Tests.Support;

/// <summary>Passes every call to <paramref name="inner"/>; a test overrides what it wants to change. Disposing leaves the inner store alone.</summary>
public class DelegatingCoordination(ICoordination inner) : ICoordination
{
    public virtual Task<KvEntry?> GetAsync(string key, CancellationToken c = default) => inner.GetAsync(key, c);

    public virtual Task<KvList> ListAsync(string prefix, CancellationToken c = default) => inner.ListAsync(prefix, c);

    public virtual Task<long> PutAsync(string key, byte[] value, long lease = 0, CancellationToken c = default) => inner.PutAsync(key, value, lease, c);

    public virtual Task<long> DeleteAsync(string key, CancellationToken c = default) => inner.DeleteAsync(key, c);

    public virtual Task<CasResult> CompareAndSwapAsync(string key, long expected, byte[] value, long lease = 0, CancellationToken c = default) =>
        inner.CompareAndSwapAsync(key, expected, value, lease, c);

    public virtual Task<CasResult> CompareAndDeleteAsync(string key, long expected, CancellationToken c = default) => inner.CompareAndDeleteAsync(key, expected, c);

    public virtual Task<long> GrantLeaseAsync(TimeSpan ttl, CancellationToken c = default) => inner.GrantLeaseAsync(ttl, c);

    public virtual Task<TimeSpan> KeepAliveAsync(long lease, CancellationToken c = default) => inner.KeepAliveAsync(lease, c);

    public virtual Task<TimeSpan?> TimeToLiveAsync(long lease, CancellationToken c = default) => inner.TimeToLiveAsync(lease, c);

    public virtual Task RevokeLeaseAsync(long lease, CancellationToken c = default) => inner.RevokeLeaseAsync(lease, c);

    public virtual IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long from, CancellationToken c = default) => inner.WatchAsync(prefix, from, c);

    public virtual Task CompactAsync(long revision, CancellationToken c = default) => inner.CompactAsync(revision, c);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
