using Microsoft.Extensions.Logging;

namespace Virt.Actors.Cluster.Coordination;

/// <param name="Ttl">Lease time-to-live at the store.</param>
/// <param name="KeepaliveInterval">How often the lease is renewed.</param>
/// <param name="SafetyMargin">How much earlier than the store could expire the lease this node gives up on it.</param>
public sealed record LeaseSettings(TimeSpan Ttl, TimeSpan KeepaliveInterval, TimeSpan SafetyMargin)
{
    public void Validate()
    {
        if (Ttl < TimeSpan.FromSeconds(1))
            throw new ArgumentException($"virt.cluster.lease-ttl must be at least 1s, not {Ttl.TotalMilliseconds:0} ms");
        if (SafetyMargin < TimeSpan.Zero || SafetyMargin >= Ttl)
            throw new ArgumentException($"virt.cluster.lease-safety-margin must be between 0 and lease-ttl ({Ttl.TotalSeconds:0.###} s)");
        if (KeepaliveInterval <= TimeSpan.Zero || KeepaliveInterval >= Ttl - SafetyMargin)
            throw new ArgumentException($"virt.cluster.keepalive-interval ({KeepaliveInterval.TotalMilliseconds:0} ms) must be positive and shorter than lease-ttl minus lease-safety-margin ({(Ttl - SafetyMargin).TotalMilliseconds:0} ms)");
    }
}

/// <summary>
/// This node's lease, kept alive in the background. The local deadline is the send time of the last acknowledged
/// keepalive + TTL - safety margin: the store counts the TTL from when it received that keepalive, which is never
/// earlier, so this node declares the lease lost (and must stop acting: self-fence) before the store can expire it
/// and let another node take over.
/// </summary>
public sealed class NodeLease : IAsyncDisposable
{
    private readonly ICoordination _store;
    private readonly LeaseSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private readonly ITimer _watchdog;
    private readonly ITimer _ticker;
    private DateTimeOffset _lastAckSent;
    private Task _renewal = Task.CompletedTask;
    private int _renewing;

    private NodeLease(ICoordination store, long id, DateTimeOffset granted, LeaseSettings settings, TimeProvider time, ILogger log)
    {
        _store = store;
        _settings = settings;
        _time = time;
        _log = log;
        Id = id;
        _lastAckSent = granted;
        _deadline = granted + settings.Ttl - settings.SafetyMargin;
        _watchdog = time.CreateTimer(_ => Check(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Arm();

        // Renewals on the clock, armed before the lease is handed out: a clock that moves at once still renews.
        _ticker = time.CreateTimer(_ => Renew(), null, settings.KeepaliveInterval, settings.KeepaliveInterval);
    }

    public long Id { get; }

    /// <summary>When this node stops trusting its lease unless a keepalive is acknowledged first.</summary>
    public DateTimeOffset Deadline
    {
        get
        {
            lock (_gate)
                return _deadline;
        }
    }

    private DateTimeOffset _deadline;

    public bool IsLost => _lost.Task.IsCompleted;

    /// <summary>
    /// Whether this node may act on the lease right now: still renewing, not lost, and before the local deadline. Checked
    /// against the clock, not only the watchdog, so a late timer callback never stretches the lease.
    /// </summary>
    public bool IsValid => !_stop.IsCancellationRequested && !IsLost && _time.GetUtcNow() < Deadline;

    /// <summary>Completes, with the reason, when the lease is lost; never when it is released on purpose.</summary>
    public Task<string> WhenLost => _lost.Task;

    public static async Task<NodeLease> AcquireAsync(ICoordination store, LeaseSettings settings, TimeProvider time, ILogger log, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        var sent = time.GetUtcNow();
        var id = await store.GrantLeaseAsync(settings.Ttl, cancellationToken).ConfigureAwait(false);
        return new NodeLease(store, id, sent, settings, time, log);
    }

    /// <summary>One keepalive per tick; a tick while the last one is still out is skipped (that one times out first).</summary>
    private void Renew()
    {
        if (_stop.IsCancellationRequested || IsLost || Interlocked.Exchange(ref _renewing, 1) == 1)
            return;
        _renewal = RenewAsync();
    }

    private async Task RenewAsync()
    {
        try
        {
            var sent = _time.GetUtcNow();
            using var timeout = new CancellationTokenSource(_settings.KeepaliveInterval * 2, _time);
            using var call = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, timeout.Token);
            var ttl = await _store.KeepAliveAsync(Id, call.Token).ConfigureAwait(false);
            if (ttl <= TimeSpan.Zero)
            {
                Lose("the store says the lease has expired");
                return;
            }

            lock (_gate)
            {
                if (sent > _lastAckSent)
                {
                    _lastAckSent = sent;
                    _deadline = sent + ttl - _settings.SafetyMargin;
                }
            }

            Arm();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Keep trying on the next tick; the watchdog decides when it is too late.
            _log.LogWarning("keepalive of lease {Lease:x} failed: {Error}", Id, ex.Message);
        }
        finally
        {
            Volatile.Write(ref _renewing, 0);
        }
    }

    private void Arm()
    {
        var wait = Deadline - _time.GetUtcNow();
        _watchdog.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void Check()
    {
        DateTimeOffset deadline, lastAck;
        lock (_gate)
            (deadline, lastAck) = (_deadline, _lastAckSent);
        if (_time.GetUtcNow() >= deadline && !_stop.IsCancellationRequested)
            Lose($"no keepalive acknowledged since {lastAck:HH:mm:ss.fff}; the lease may expire at any moment");
        else if (!IsLost)
            Arm();
    }

    private void Lose(string reason)
    {
        if (_lost.TrySetResult(reason))
            _log.LogCritical("lease {Lease:x} lost: {Reason}", Id, reason);
    }

    /// <summary>Stops renewing and revokes the lease: a graceful leave; its keys go at once.</summary>
    public async Task ReleaseAsync()
    {
        await StopAsync().ConfigureAwait(false);
        try
        {
            using var cts = new CancellationTokenSource(_settings.Ttl, _time);
            await _store.RevokeLeaseAsync(Id, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _log.LogWarning("could not revoke lease {Lease:x} (it will expire on its own): {Error}", Id, ex.Message);
        }
    }

    private async Task StopAsync()
    {
        _stop.Cancel();
        await _ticker.DisposeAsync().ConfigureAwait(false);
        await _watchdog.DisposeAsync().ConfigureAwait(false);
        await _renewal.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
