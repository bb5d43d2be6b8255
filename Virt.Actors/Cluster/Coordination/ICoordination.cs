namespace Virt.Actors.Cluster.Coordination;

/// <summary>A key as stored, with etcd's revision bookkeeping.</summary>
public sealed record KvEntry(string Key, byte[] Value, long CreateRevision, long ModRevision, long Version, long Lease);

public sealed record KvList(IReadOnlyList<KvEntry> Entries, long Revision);

/// <summary>The outcome of a compare-and-swap: if it failed, <see cref="Current"/> is what is there instead.</summary>
public sealed record CasResult(bool Succeeded, long Revision, KvEntry? Current);

public enum WatchEventKind
{
    Put,
    Delete,
}

public sealed record WatchEvent(WatchEventKind Kind, KvEntry Entry);

/// <summary>
/// The primitives Virt's distributed guarantees stand on: a revisioned key-value store with compare-and-swap,
/// leases that delete their keys when they expire, and watches. Implemented by etcd (clusters) and in-process
/// (single node); <c>CoordinationConformance</c> in Virt.Tests proves both behave the same. Membership, node leases
/// and singleton election are built once on top of this.
/// </summary>
public interface ICoordination : IAsyncDisposable
{
    Task<KvEntry?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Every key under <paramref name="prefix"/>, and the revision the listing is consistent at.</summary>
    Task<KvList> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <returns>The revision of the write.</returns>
    Task<long> PutAsync(string key, byte[] value, long lease = 0, CancellationToken cancellationToken = default);

    /// <returns>How many keys were deleted (0 or 1).</returns>
    Task<long> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="value"/> only if the key's mod revision is <paramref name="expectedModRevision"/> (0: the key must not exist).</summary>
    Task<CasResult> CompareAndSwapAsync(string key, long expectedModRevision, byte[] value, long lease = 0, CancellationToken cancellationToken = default);

    /// <summary>Deletes the key only if its mod revision is <paramref name="expectedModRevision"/>.</summary>
    Task<CasResult> CompareAndDeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken = default);

    Task<long> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Renews the lease; returns its TTL, or <see cref="TimeSpan.Zero"/> when the lease no longer exists.</summary>
    Task<TimeSpan> KeepAliveAsync(long lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Time the lease has left, or null when it no longer exists. etcd answers in whole seconds rounded down, so a lease
    /// with less than a second left shows <see cref="TimeSpan.Zero"/> and still exists.
    /// </summary>
    Task<TimeSpan?> TimeToLiveAsync(long lease, CancellationToken cancellationToken = default);

    /// <summary>Ends the lease now; its keys are deleted.</summary>
    Task RevokeLeaseAsync(long lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes under <paramref name="prefix"/> from <paramref name="fromRevision"/> on, in order, until cancelled;
    /// reconnects transparently. Throws <see cref="CompactedException"/> when that history is gone: re-list, then watch
    /// from the listing's revision + 1.
    /// </summary>
    IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long fromRevision, CancellationToken cancellationToken = default);

    /// <summary>Forgets history before <paramref name="revision"/>.</summary>
    Task CompactAsync(long revision, CancellationToken cancellationToken = default);
}

/// <summary>A watch asked for history the store has already discarded.</summary>
public sealed class CompactedException(string prefix, long requested, long compactedTo)
    : Exception($"the watch of '{prefix}' needs revision {requested} but history before {compactedTo} is compacted; list again and watch from the listing's revision")
{
    public long CompactedTo { get; } = compactedTo;
}

/// <summary>The coordination store cannot be reached or has no quorum; nothing was done (or it is unknown whether a write applied).</summary>
public class CoordinationUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
