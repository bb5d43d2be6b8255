using System.Text;
using Microsoft.Extensions.Logging;

namespace Virt.Actors.Cluster.Coordination;

/// <summary>
/// Campaigns for a named cluster singleton (the balancer). The holder is whoever created the key
/// <c>/virt/singletons/{name}</c>, bound to its lease: creation is compare-and-swap on absence, so there is at most one
/// holder, and when the holder's lease ends (or it resigns) the key goes and the others race again. A holder whose
/// lease is lost stops holding at once, before the store can let anyone else in.
/// </summary>
public sealed class SingletonElection : IAsyncDisposable
{
    private readonly ICoordination _store;
    private readonly string _key;
    private readonly string _candidate;
    private readonly NodeLease _lease;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _heldRevision;
    private volatile string? _holder;
    private volatile bool _leader;

    public SingletonElection(ICoordination store, string name, string candidate, NodeLease lease, ILogger log)
    {
        _store = store;
        Name = name;
        _key = CoordinationKeys.Singleton(name);
        _candidate = candidate;
        _lease = lease;
        _log = log;
    }

    public string Name { get; }

    /// <summary>The current holder as last seen, or null.</summary>
    public string? Holder => _holder;

    /// <summary>True only while this candidate holds the key and its lease is valid by the local clock.</summary>
    public bool IsLeader => _leader && _lease.IsValid;

    public void Start() => _loop ??= Task.Run(Campaign);

    /// <summary>The holder of a singleton, for observers.</summary>
    public static async Task<string?> HolderOfAsync(ICoordination store, string name, CancellationToken cancellationToken = default) =>
        await store.GetAsync(CoordinationKeys.Singleton(name), cancellationToken).ConfigureAwait(false) is { } entry ? Encoding.UTF8.GetString(entry.Value) : null;

    private async Task Campaign()
    {
        var token = _stop.Token;
        _ = _lease.WhenLost.ContinueWith(_ => StepDown(), TaskScheduler.Default);
        while (!token.IsCancellationRequested && !_lease.IsLost)
        {
            try
            {
                var attempt = await _store.CompareAndSwapAsync(_key, 0, Encoding.UTF8.GetBytes(_candidate), _lease.Id, token).ConfigureAwait(false);

                // Ours already, under our lease: an earlier attempt was applied though its answer was lost.
                var ours = attempt.Current is { } mine && mine.Lease == _lease.Id && Encoding.UTF8.GetString(mine.Value) == _candidate;
                if (attempt.Succeeded || ours)
                {
                    _heldRevision = attempt.Current!.ModRevision;
                    _leader = true;
                    _holder = _candidate;
                    _log.LogInformation("{Candidate} now holds singleton {Name}", _candidate, Name);
                }
                else
                {
                    _holder = attempt.Current is { } c ? Encoding.UTF8.GetString(c.Value) : null;
                }

                // Wait for the key to go (holder resigned, or its lease ended), then race again.
                await foreach (var e in _store.WatchAsync(_key, attempt.Revision + 1, token).ConfigureAwait(false))
                {
                    if (e.Entry.Key != _key)
                        continue;
                    if (e.Kind == WatchEventKind.Delete)
                    {
                        StepDown();
                        break;
                    }

                    _holder = Encoding.UTF8.GetString(e.Entry.Value);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _log.LogWarning("campaign for {Name} interrupted: {Error}; retrying", Name, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None).ConfigureAwait(false); // back off before the next attempt
            }
        }

        StepDown();
    }

    private void StepDown()
    {
        if (_leader)
        {
            _leader = false;
            _log.LogWarning("{Candidate} no longer holds singleton {Name}", _candidate, Name);
        }

        _holder = null;
    }

    /// <summary>Gives the singleton up (if held) so another candidate takes it at once.</summary>
    public async Task ResignAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
            await _loop.ConfigureAwait(false);
        if (_leader && _heldRevision > 0)
        {
            _leader = false;
            try
            {
                await _store.CompareAndDeleteAsync(_key, _heldRevision).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _log.LogWarning("resigning {Name} failed (the lease will end it): {Error}", Name, ex.Message);
            }
        }
    }

    public async ValueTask DisposeAsync() => await ResignAsync().ConfigureAwait(false);
}
