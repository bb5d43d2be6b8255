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
    private long _ownRevision;

    private ClusterMembership(ICoordination store, ILogger log, MemberInfo? self)
    {
        _store = store;
        _log = log;
        Self = self;
    }

    public MemberInfo? Self { get; }

    public IReadOnlyDictionary<string, MemberInfo> Members
    {
        get
        {
            lock (_members)
                return new Dictionary<string, MemberInfo>(_members, StringComparer.Ordinal);
        }
    }

    /// <summary>Registers <paramref name="self"/> under its lease, then follows the membership.</summary>
    public static async Task<ClusterMembership> JoinAsync(ICoordination store, MemberInfo self, ILogger log, CancellationToken cancellationToken = default)
    {
        var membership = new ClusterMembership(store, log, self);
        membership._ownRevision = await store.PutAsync(CoordinationKeys.Member(self.Name), Serialize(self), self.Lease, cancellationToken).ConfigureAwait(false);
        await membership.StartAsync().ConfigureAwait(false);
        return membership;
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

    private MemberInfo? Parse(KvEntry entry)
    {
        try
        {
            return JsonSerializer.Deserialize<MemberInfo>(entry.Value, Json);
        }
        catch (JsonException ex)
        {
            _log.LogWarning("ignoring unreadable member record {Key}: {Error}", entry.Key, ex.Message);
            return null;
        }
    }

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
