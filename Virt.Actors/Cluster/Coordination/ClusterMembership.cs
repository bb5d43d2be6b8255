using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Virt.Actors.Cluster.Coordination;

/// <summary>A node as it registers itself under <c>/virt/members/{name}</c>, bound to its lease.</summary>
public sealed record MemberInfo(
    string Name,
    string Address,
    IReadOnlyList<string> Roles,
    IReadOnlyDictionary<string, double> Capacity,
    string Incarnation,
    long Lease,
    DateTimeOffset JoinedAt);

public enum MemberChangeKind
{
    Joined,
    Updated,
    Left,
}

public sealed record MemberChange(MemberChangeKind Kind, MemberInfo Member);

/// <summary>
/// Who is in the cluster: registers this node (if asked) and follows every member's key, so all nodes see joins and
/// leaves (a member leaves when it deletes its key or its lease ends). Survives watch compaction by listing again.
/// </summary>
public sealed class ClusterMembership : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ICoordination _store;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, MemberInfo> _members = new(StringComparer.Ordinal);
    private readonly List<Channel<MemberChange>> _subscribers = [];
    private readonly TaskCompletionSource _listed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;

    private ClusterMembership(ICoordination store, ILogger log, MemberInfo? self)
    {
        _store = store;
        _log = log;
        Self = self;
    }

    public MemberInfo? Self { get; private set; }

    public IReadOnlyDictionary<string, MemberInfo> Members
    {
        get
        {
            lock (_members)
                return new Dictionary<string, MemberInfo>(_members, StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// Registers <paramref name="self"/> under its lease, then follows the membership. The name must be free: while
    /// another incarnation's record stands (a second node with the same name, or this node before a crash whose lease
    /// has not ended yet) the join is refused with <see cref="MemberNameTakenException"/>.
    /// </summary>
    public static async Task<ClusterMembership> JoinAsync(ICoordination store, MemberInfo self, ILogger log, CancellationToken cancellationToken = default)
    {
        var key = CoordinationKeys.Member(self.Name);
        var registered = await store.CompareAndSwapAsync(key, 0, Serialize(self), self.Lease, cancellationToken).ConfigureAwait(false);
        if (!registered.Succeeded && registered.Current?.Lease != self.Lease) // same lease: our own earlier attempt was applied
        {
            var holder = registered.Current is { } current ? Parse(current, log) : null;
            throw new MemberNameTakenException(self.Name, holder);
        }

        var membership = new ClusterMembership(store, log, self);
        await membership.StartAsync().ConfigureAwait(false);
        return membership;
    }

    /// <summary>Rewrites this node's record (say, its capacity became known), under the same lease.</summary>
    public async Task UpdateAsync(MemberInfo self, CancellationToken cancellationToken = default)
    {
        if (Self is null || self.Name != Self.Name || self.Lease != Self.Lease)
            throw new ArgumentException("only this node's own record, under its lease, can be updated", nameof(self));
        await _store.PutAsync(CoordinationKeys.Member(self.Name), Serialize(self), self.Lease, cancellationToken).ConfigureAwait(false);
        Self = self;
    }

    /// <summary>Follows the membership without registering.</summary>
    public static async Task<ClusterMembership> ObserveAsync(ICoordination store, ILogger log)
    {
        var membership = new ClusterMembership(store, log, null);
        await membership.StartAsync().ConfigureAwait(false);
        return membership;
    }

    /// <summary>Changes from now on (the current members arrive first as joins).</summary>
    public ChannelReader<MemberChange> Subscribe()
    {
        var channel = Channel.CreateUnbounded<MemberChange>();
        lock (_members)
        {
            foreach (var member in _members.Values)
                channel.Writer.TryWrite(new MemberChange(MemberChangeKind.Joined, member));
            _subscribers.Add(channel);
        }

        return channel.Reader;
    }

    /// <summary>Removes this node's record (a graceful leave), if it is still the one this node wrote.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken = default)
    {
        if (Self is null)
            return;
        var current = await _store.GetAsync(CoordinationKeys.Member(Self.Name), cancellationToken).ConfigureAwait(false);
        if (current is not null && current.Lease == Self.Lease)
            await _store.CompareAndDeleteAsync(current.Key, current.ModRevision, cancellationToken).ConfigureAwait(false);
    }

    private async Task StartAsync()
    {
        _loop = Task.Run(Follow);
        await _listed.Task.ConfigureAwait(false);
    }

    private async Task Follow()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var listing = await _store.ListAsync(CoordinationKeys.Members, token).ConfigureAwait(false);
                Replace(listing.Entries.Select(Parse).OfType<MemberInfo>().ToList());
                _listed.TrySetResult();
                await foreach (var e in _store.WatchAsync(CoordinationKeys.Members, listing.Revision + 1, token).ConfigureAwait(false))
                {
                    if (e.Kind == WatchEventKind.Put && Parse(e.Entry) is { } joined)
                        Apply(joined, left: false);
                    else if (e.Kind == WatchEventKind.Delete)
                        Apply(Name(e.Entry.Key), left: true);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (CompactedException ex)
            {
                _log.LogInformation("membership watch compacted ({Error}); listing again", ex.Message);
            }
            catch (Exception ex)
            {
                _log.LogWarning("membership watch failed: {Error}; retrying", ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None).ConfigureAwait(false); // back off before the next attempt
            }
        }
    }

    private void Replace(List<MemberInfo> current)
    {
        lock (_members)
        {
            foreach (var gone in _members.Keys.Except(current.Select(m => m.Name)).ToList())
                Apply(gone, left: true);
            foreach (var member in current)
                Apply(member, left: false);
        }
    }

    private void Apply(object change, bool left)
    {
        lock (_members)
        {
            MemberChange? happened = null;
            if (left && change is string name && _members.Remove(name, out var was))
                happened = new MemberChange(MemberChangeKind.Left, was);
            else if (!left && change is MemberInfo member)
            {
                var existed = _members.TryGetValue(member.Name, out var before);
                _members[member.Name] = member;
                if (!existed || before != member)
                    happened = new MemberChange(existed ? MemberChangeKind.Updated : MemberChangeKind.Joined, member);
            }

            if (happened is null)
                return;
            foreach (var subscriber in _subscribers)
                subscriber.Writer.TryWrite(happened);
        }
    }

    private static byte[] Serialize(MemberInfo member) => JsonSerializer.SerializeToUtf8Bytes(member, Json);

    private MemberInfo? Parse(KvEntry entry) => Parse(entry, _log);

    private static MemberInfo? Parse(KvEntry entry, ILogger log)
    {
        try
        {
            return JsonSerializer.Deserialize<MemberInfo>(entry.Value, Json);
        }
        catch (JsonException ex)
        {
            log.LogWarning("ignoring unreadable member record {Key}: {Error}", entry.Key, ex.Message);
            return null;
        }
    }

    /// <summary>Reads a member record as stored (for listings that do not follow the membership).</summary>
    public static MemberInfo? Read(KvEntry entry, ILogger log) => Parse(entry, log);

    private static string Name(string key) => key[CoordinationKeys.Members.Length..];

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
            await _loop.ConfigureAwait(false);
        lock (_members)
        {
            foreach (var subscriber in _subscribers)
                subscriber.Writer.TryComplete();
        }
    }
}

/// <summary>Another live member already has this node's name.</summary>
public sealed class MemberNameTakenException(string name, MemberInfo? holder)
    : Exception($"another member named '{name}' is registered ({(holder is null ? "unreadable record" : $"address {holder.Address}, incarnation {holder.Incarnation}")}); "
        + "if that is this node before a crash, its lease ends within the lease TTL and the join is retried; otherwise give this node another virt.node.name")
{
    public MemberInfo? Holder { get; } = holder;
}
