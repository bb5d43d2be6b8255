using System.Runtime.CompilerServices;
using Virt.Actors.Cluster.Coordination;

namespace Virt.Actors.Cluster.InProcess;

/// <summary>
/// <see cref="ICoordination"/> inside one process, for single-node mode: the same semantics as etcd (one revision
/// counter, leases that expire on the clock and delete their keys, watch history that can be compacted), so the
/// membership and election code above it behave identically.
/// </summary>
public sealed class InMemoryCoordination : ICoordination
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly SortedDictionary<string, KvEntry> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<long, (TimeSpan Ttl, DateTimeOffset ExpiresAt)> _leases = new();
    private readonly List<(long Revision, WatchEvent Event)> _history = [];
    private readonly ITimer _sweeper;
    private readonly int _historyLimit;
    private TaskCompletionSource _changed = NewSignal();
    private long _revision = 1;
    private long _compactedBelow = 1;
    private long _nextLease = 0x1000;

    public InMemoryCoordination(TimeProvider? time = null, int historyLimit = 100_000, TimeSpan? sweepInterval = null)
    {
        _time = time ?? TimeProvider.System;
        _historyLimit = historyLimit;
        var every = sweepInterval ?? TimeSpan.FromMilliseconds(50);
        _sweeper = _time.CreateTimer(_ => ExpireLeases(), null, every, every);
    }

    public Task<KvEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult(_keys.GetValueOrDefault(key));
    }

    public Task<KvList> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult(new KvList(_keys.Values.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList(), _revision));
    }

    public Task<long> PutAsync(string key, byte[] value, long lease = 0, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            RequireLease(lease);
            return Task.FromResult(Write(key, value, lease));
        }
    }

    public Task<long> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult(Remove(key) ? 1L : 0L);
    }

    public Task<CasResult> CompareAndSwapAsync(string key, long expectedModRevision, byte[] value, long lease = 0, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            RequireLease(lease);
            var current = _keys.GetValueOrDefault(key);
            if ((current?.ModRevision ?? 0) != expectedModRevision)
                return Task.FromResult(new CasResult(false, _revision, current));
            var revision = Write(key, value, lease);
            return Task.FromResult(new CasResult(true, revision, _keys[key]));
        }
    }

    public Task<CasResult> CompareAndDeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var current = _keys.GetValueOrDefault(key);
            if (current is null || current.ModRevision != expectedModRevision)
                return Task.FromResult(new CasResult(false, _revision, current));
            Remove(key);
            return Task.FromResult(new CasResult(true, _revision, null));
        }
    }

    public Task<long> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        if (ttl < TimeSpan.FromSeconds(1))
            throw new ArgumentOutOfRangeException(nameof(ttl), "a lease lives at least 1 s");
        lock (_gate)
        {
            var id = ++_nextLease;
            _leases[id] = (Whole(ttl), _time.GetUtcNow() + Whole(ttl));
            return Task.FromResult(id);
        }
    }

    public Task<TimeSpan> KeepAliveAsync(long lease, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_leases.TryGetValue(lease, out var l) || l.ExpiresAt <= _time.GetUtcNow())
                return Task.FromResult(TimeSpan.Zero);
            _leases[lease] = (l.Ttl, _time.GetUtcNow() + l.Ttl);
            return Task.FromResult(l.Ttl);
        }
    }

    public Task<TimeSpan?> TimeToLiveAsync(long lease, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var left = _leases.TryGetValue(lease, out var l) ? l.ExpiresAt - _time.GetUtcNow() : TimeSpan.Zero;
            return Task.FromResult<TimeSpan?>(left > TimeSpan.Zero ? left : null);
        }
    }

    public Task RevokeLeaseAsync(long lease, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            EndLease(lease);
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long fromRevision, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var next = fromRevision;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<WatchEvent> batch;
            Task changed;
            lock (_gate)
            {
                if (next < _compactedBelow)
                    throw new CompactedException(prefix, next, _compactedBelow);
                batch = _history.Where(h => h.Revision >= next && h.Event.Entry.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(h => h.Event).ToList();
                next = _revision + 1;
                changed = _changed.Task;
            }

            foreach (var e in batch)
                yield return e;
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task CompactAsync(long revision, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _compactedBelow = Math.Max(_compactedBelow, Math.Min(revision, _revision + 1));
            _history.RemoveAll(h => h.Revision < _compactedBelow);
        }

        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _sweeper.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Deletes the keys of every lease whose time is up; runs on the clock.</summary>
    private void ExpireLeases()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var id in _leases.Where(l => l.Value.ExpiresAt <= now).Select(l => l.Key).ToList())
                EndLease(id);
        }
    }

    private void EndLease(long lease)
    {
        if (!_leases.Remove(lease))
            return;
        foreach (var key in _keys.Values.Where(e => e.Lease == lease).Select(e => e.Key).ToList())
            Remove(key);
    }

    private void RequireLease(long lease)
    {
        if (lease != 0 && !_leases.ContainsKey(lease))
            throw new InvalidOperationException($"lease {lease:x} does not exist (it expired or was revoked)");
    }

    private long Write(string key, byte[] value, long lease)
    {
        var revision = ++_revision;
        var previous = _keys.GetValueOrDefault(key);
        var entry = new KvEntry(key, value, previous?.CreateRevision ?? revision, revision, (previous?.Version ?? 0) + 1, lease);
        _keys[key] = entry;
        Record(revision, new WatchEvent(WatchEventKind.Put, entry));
        return revision;
    }

    private bool Remove(string key)
    {
        if (!_keys.Remove(key, out var previous))
            return false;
        var revision = ++_revision;
        Record(revision, new WatchEvent(WatchEventKind.Delete, previous with { ModRevision = revision, Value = [] }));
        return true;
    }

    private void Record(long revision, WatchEvent e)
    {
        _history.Add((revision, e));
        if (_history.Count > _historyLimit)
        {
            _compactedBelow = _history[_history.Count - _historyLimit].Revision;
            _history.RemoveRange(0, _history.Count - _historyLimit);
        }

        Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
    }

    /// <summary>etcd leases are whole seconds.</summary>
    private static TimeSpan Whole(TimeSpan ttl) => TimeSpan.FromSeconds(Math.Ceiling(ttl.TotalSeconds));

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
