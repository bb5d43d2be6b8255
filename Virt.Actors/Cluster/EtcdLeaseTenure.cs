using Akka.Coordination;
using Akka.Event;

namespace Virt.Actors.Cluster;

/// <summary>
/// One holding of an <see cref="EtcdLease"/>: the etcd lease its key is attached to, the keepalives that renew it,
/// and the local deadline past which this node no longer trusts it.
/// <para>The deadline is the send time of the last acknowledged keepalive (or of the grant) + TTL - safety margin.
/// etcd counts the TTL from when it received that keepalive, which is never earlier than it was sent (and a new etcd
/// leader extends every lease), so this node reports the lease lost before etcd can expire it and give the key to
/// another. Times are monotonic (<see cref="TimeProvider.GetTimestamp"/>): a wall clock stepped back must not
/// stretch the lease.</para>
/// </summary>
internal sealed class EtcdLeaseTenure
{
    private readonly object _gate = new();
    private readonly Func<long, TimeSpan, Task<long>> _keepAlive;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _margin;
    private readonly ILoggingAdapter _log;
    private readonly string _name;
    private ITimer? _ticker;
    private ITimer? _watchdog;
    private TimeSpan _lastAckSent;
    private TimeSpan _deadline;
    private Action<Exception>? _onLost;
    private Task _notBefore = Task.CompletedTask;
    private bool _ended;
    private int _renewing;

    /// <param name="keepAlive">Sends one keepalive for the etcd lease within the time given; returns the TTL etcd answered in seconds (0: the lease is gone).</param>
    /// <param name="grantSent">When the grant was sent, on <see cref="Now"/>'s clock.</param>
    public EtcdLeaseTenure(string name, long etcdLeaseId, TimeSpan grantSent, TimeSpan ttl, TimeSpan interval, TimeSpan margin,
        Func<long, TimeSpan, Task<long>> keepAlive, TimeProvider time, ILoggingAdapter log)
    {
        _name = name;
        EtcdLeaseId = etcdLeaseId;
        _keepAlive = keepAlive;
        _time = time;
        _interval = interval;
        _margin = margin;
        _log = log;
        _lastAckSent = grantSent;
        _deadline = grantSent + ttl - margin;
    }

    public long EtcdLeaseId { get; }

    /// <summary>Monotonic time: since an arbitrary origin, never stepped.</summary>
    public static TimeSpan Now(TimeProvider time)
    {
        // Integer arithmetic: GetElapsedTime goes through a double and loses ticks on large timestamps.
        var (stamp, frequency) = (time.GetTimestamp(), time.TimestampFrequency);
        return TimeSpan.FromTicks(stamp / frequency * TimeSpan.TicksPerSecond + stamp % frequency * TimeSpan.TicksPerSecond / frequency);
    }

    /// <summary>When (on <see cref="Now"/>'s clock) this node stops trusting the lease unless a keepalive is acknowledged first.</summary>
    public TimeSpan Deadline
    {
        get
        {
            lock (_gate)
                return _deadline;
        }
    }

    /// <summary>Held for certain right now: neither ended nor past the deadline (checked on the clock, so a late timer never stretches the lease).</summary>
    public bool IsValid
    {
        get
        {
            lock (_gate)
                return !_ended && Now(_time) < _deadline;
        }
    }

    /// <summary>
    /// Starts renewing (once) and names who is told of a loss: <paramref name="onLost"/>, never before
    /// <paramref name="notBefore"/> (the acquire that handed the lease out) has completed.
    /// </summary>
    public void Hold(Action<Exception>? onLost, Task notBefore)
    {
        lock (_gate)
        {
            if (_ended)
                return;
            _onLost = onLost;
            _notBefore = notBefore;
            if (_ticker is not null)
                return;
            _watchdog = _time.CreateTimer(_ => Check(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _ticker = _time.CreateTimer(_ => Renew(), null, _interval, _interval);
            ArmLocked();
        }
    }

    /// <summary>Stops renewing without telling anyone: a release, or the actor system going away. Etcd expires the lease unless it is revoked.</summary>
    public void End()
    {
        lock (_gate)
        {
            _ended = true;
            StopTimersLocked();
        }
    }

    /// <summary>One keepalive per tick; a tick while the last one is still out is skipped (that one times out first).</summary>
    private void Renew()
    {
        lock (_gate)
        {
            if (_ended || _renewing == 1)
                return;
            _renewing = 1;
        }

        _ = RenewAsync();
    }

    private async Task RenewAsync()
    {
        try
        {
            var sent = Now(_time);
            var ttl = await _keepAlive(EtcdLeaseId, _interval).ConfigureAwait(false);
            if (ttl <= 0)
            {
                Lose(new LeaseException($"lease {_name}: etcd says its lease {EtcdLeaseId:x} has expired"));
                return;
            }

            lock (_gate)
            {
                if (_ended || sent <= _lastAckSent)
                    return;
                _lastAckSent = sent;
                _deadline = sent + TimeSpan.FromSeconds(ttl) - _margin;
                ArmLocked();
            }
        }
        catch (Exception ex)
        {
            // Tried again on the next tick; the watchdog decides when it is too late.
            _log.Warning("lease {0}: keepalive of etcd lease {1:x} failed: {2}", _name, EtcdLeaseId, ex is OperationCanceledException ? $"no answer within heartbeat-interval ({_interval.TotalMilliseconds:0}ms)" : ex.Message);
        }
        finally
        {
            lock (_gate)
                _renewing = 0;
        }
    }

    private void ArmLocked()
    {
        var wait = _deadline - Now(_time);
        _watchdog?.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void Check()
    {
        TimeSpan sinceAck;
        lock (_gate)
        {
            var now = Now(_time);
            if (_ended)
                return;
            if (now < _deadline)
            {
                ArmLocked();
                return;
            }

            sinceAck = now - _lastAckSent;
        }

        var at = _time.GetUtcNow() - sinceAck;
        Lose(new LeaseException($"lease {_name}: no keepalive acknowledged by etcd since {at:HH:mm:ss.fff} ({sinceAck.TotalMilliseconds:0}ms); etcd may expire it at any moment"));
    }

    private void Lose(Exception reason)
    {
        Action<Exception>? onLost;
        Task notBefore;
        lock (_gate)
        {
            if (_ended)
                return;
            _ended = true;
            StopTimersLocked();
            (onLost, notBefore) = (_onLost, _notBefore);
        }

        _log.Error("{0}", reason.Message);
        if (onLost is null)
            return;
        _ = notBefore.ContinueWith(_ =>
        {
            try
            {
                onLost(reason);
            }
            catch (Exception ex)
            {
                _log.Error(ex, "lease {0}: the lease-lost callback failed", _name);
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private void StopTimersLocked()
    {
        _ticker?.Dispose();
        _watchdog?.Dispose();
        _ticker = null;
        _watchdog = null;
    }
}
