using Akka.Actor;
using Akka.Coordination;
using Akka.Event;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Virt.Actors.Cluster;

/// <summary>
/// Akka's <see cref="Akka.Coordination.Lease"/> on etcd, for the Split Brain Resolver's <c>lease-majority</c>,
/// <c>akka.cluster.singleton.use-lease</c> and <c>akka.cluster.sharding.use-lease</c>. Settings:
/// <see cref="EtcdLeaseSettings"/>; HOCON: <c>lease-class = "Virt.Actors.Cluster.EtcdLease, Virt.Actors"</c>.
/// <para>The lease is the key <c>key-prefix + lease name</c>, whose value is the owner (the node's host:port). To
/// acquire, this node grants an etcd lease with TTL = <c>heartbeat-timeout</c> and creates the key on it only if it
/// is absent (one transaction), then renews it every <c>heartbeat-interval</c>; a key that already names this owner
/// (left by an earlier holding of this node, at the same address) is taken back. A release revokes the etcd lease,
/// which deletes the key at once. When renewals fail up to the local deadline (<see cref="EtcdLeaseTenure"/>) the
/// lease is reported lost, before etcd can give it to anyone else.</para>
/// <para>Acquire, release and re-acquire run one at a time, in call order: a release while an acquire is under way
/// releases what that acquire took.</para>
/// </summary>
internal sealed class EtcdLease : Akka.Coordination.Lease
{
    private readonly EtcdLeaseSettings _etcd;
    private readonly EtcdClient _client;
    private readonly TimeProvider _time;
    private readonly ILoggingAdapter _log;
    private readonly ByteString _key;
    private readonly ByteString _owner;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly object _gate = new();
    private volatile EtcdLeaseTenure? _tenure;
    private bool _stopped;

    public EtcdLease(LeaseSettings settings, ActorSystem system)
        : this(settings, system, TimeProvider.System)
    {
    }

    internal EtcdLease(LeaseSettings settings, ActorSystem system, TimeProvider time)
        : base(settings)
    {
        _etcd = EtcdLeaseSettings.Parse(settings.LeaseConfig, settings.TimeoutSettings, $"of lease '{settings.LeaseName}'", InheritedKeys(system));
        _client = EtcdClients.Get(system).For(_etcd);
        _time = time;
        _log = Logging.GetLogger(system, typeof(EtcdLease));
        Key = _etcd.KeyPrefix + settings.LeaseName;
        _key = ByteString.CopyFromUtf8(Key);
        _owner = ByteString.CopyFromUtf8(settings.OwnerName);

        // A node that goes away stops renewing and does not release, like a crash: Akka's SBR expects its lease to
        // stay taken until heartbeat-timeout; a singleton releases on its own before a graceful leave.
        system.WhenTerminated.ContinueWith(_ =>
        {
            lock (_gate)
            {
                _stopped = true;
                _tenure?.End();
            }
        }, TaskScheduler.Default);
    }

    /// <summary>The etcd key that names the holder.</summary>
    public string Key { get; }

    /// <summary>The current holding's local deadline, monotonic (moves with each acknowledged keepalive); null before the first acquire.</summary>
    internal TimeSpan? Deadline => _tenure?.Deadline;

    public override Task<bool> Acquire() => Acquire(null!);

    public override Task<bool> Acquire(Action<Exception> leaseLostCallback)
    {
        var returned = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Serialized(async () =>
        {
            try
            {
                returned.SetResult(await AcquireAsync(leaseLostCallback, returned.Task).ConfigureAwait(false));
            }
            catch (Exception ex)
            {
                returned.SetException(ex);
            }
        });
        return returned.Task;
    }

    public override Task<bool> Release() => Serialized(ReleaseAsync);

    public override bool CheckLease() => _tenure?.IsValid == true;

    private async Task<T> Serialized<T>(Func<Task<T>> operation)
    {
        await _oneAtATime.WaitAsync().ConfigureAwait(false);
        try
        {
            return await operation().ConfigureAwait(false);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private Task Serialized(Func<Task> operation) => Serialized(async () =>
    {
        await operation().ConfigureAwait(false);
        return true;
    });

    /// <summary>
    /// True: held. False: someone else holds it. LeaseException: it may or may not have been taken.
    /// <para>A holder that has missed its renewals is most likely gone (crashed, stopped, cut off): rather than answer
    /// false while etcd still counts down its lease, this waits until etcd has expired it and tries once more, at most
    /// one TTL later. Akka's split brain resolver reverses its decision on false, so without the wait a healthy
    /// majority downs itself whenever the lost node held the resolver's lease. A holder that renews is answered false at once.</para>
    /// </summary>
    private async Task<bool> AcquireAsync(Action<Exception>? onLost, Task returned)
    {
        var giveUp = EtcdLeaseTenure.Now(_time) + _etcd.Ttl;
        while (true)
        {
            var (won, holder, holderLease) = await TryAcquireAsync(onLost, returned).ConfigureAwait(false);
            if (won)
                return true;
            var expiresIn = await BehindHolderExpiresInAsync(holderLease).ConfigureAwait(false);
            if (expiresIn is not { } wait || EtcdLeaseTenure.Now(_time) + wait > giveUp)
                return false;
            _log.Info("lease {0}: its holder {1} has missed its renewals; waiting {2:0.0}s for etcd to expire its lease", Settings.LeaseName, holder, wait.TotalSeconds);
            await Task.Delay(wait, _time).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// How long until etcd expires <paramref name="holderLease"/> (plus the half second etcd takes to act on an
    /// expiry) when its holder is behind on renewals (more than two heartbeat intervals); null when it renews, or
    /// etcd cannot say.
    /// </summary>
    private async Task<TimeSpan?> BehindHolderExpiresInAsync(long holderLease)
    {
        if (holderLease == 0)
            return null;
        try
        {
            using var cancel = new CancellationTokenSource(Settings.TimeoutSettings.OperationTimeout, _time);
            var live = await _client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = holderLease }, cancellationToken: cancel.Token).ConfigureAwait(false);
            if (live.TTL < 0)
                return TimeSpan.Zero; // expired already: try again at once
            var renewedAgo = TimeSpan.FromSeconds(live.GrantedTTL - live.TTL);
            return renewedAgo > Settings.TimeoutSettings.HeartbeatInterval * 2 ? TimeSpan.FromSeconds(live.TTL + 0.5) : null;
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>One attempt: whether it is now held, and otherwise who holds it on which etcd lease.</summary>
    private async Task<(bool Won, string Holder, long HolderLease)> TryAcquireAsync(Action<Exception>? onLost, Task returned)
    {
        if (Volatile.Read(ref _stopped))
            throw new LeaseException($"lease {Settings.LeaseName}: the actor system has terminated");
        if (_tenure is { IsValid: true } held)
        {
            held.Hold(onLost, returned);
            return (true, Settings.OwnerName, 0);
        }

        var timeout = Settings.TimeoutSettings.OperationTimeout;
        using var cancel = new CancellationTokenSource(timeout, _time);
        long granted = 0;
        try
        {
            var sent = EtcdLeaseTenure.Now(_time);
            var grant = await _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)_etcd.Ttl.TotalSeconds }, cancellationToken: cancel.Token).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(grant.Error))
                throw new LeaseException($"lease {Settings.LeaseName}: etcd refused to grant a lease: {grant.Error}");
            granted = grant.ID;
            var tenure = new EtcdLeaseTenure(Settings.LeaseName, grant.ID, sent, TimeSpan.FromSeconds(grant.TTL), Settings.TimeoutSettings.HeartbeatInterval,
                _etcd.SafetyMargin, KeepAliveAsync, _time, _log);
            var (won, holder, previous) = await TakeKeyAsync(grant.ID, cancel.Token).ConfigureAwait(false);
            if (!won)
            {
                RevokeInBackground(granted);
                _log.Debug("lease {0} is held by {1}", Settings.LeaseName, holder);
                return (false, holder, previous);
            }

            // Too slow to be of use: it would run out before its first renewal, perhaps before the caller hears it was taken.
            if (tenure.Deadline - EtcdLeaseTenure.Now(_time) < Settings.TimeoutSettings.HeartbeatInterval)
            {
                RevokeInBackground(granted);
                throw new LeaseTimeoutException($"lease {Settings.LeaseName}: etcd took too long to hand it over (the lease would expire before its first renewal)");
            }

            if (previous != 0 && previous != granted)
                RevokeInBackground(previous); // our earlier etcd lease: it no longer holds the key
            lock (_gate)
            {
                if (_stopped)
                    throw new LeaseException($"lease {Settings.LeaseName}: the actor system has terminated");
                _tenure = tenure;
                tenure.Hold(onLost, returned);
            }

            _log.Info("lease {0} acquired by {1} (etcd lease {2:x}, TTL {3}s)", Settings.LeaseName, Settings.OwnerName, grant.ID, grant.TTL);
            return (true, Settings.OwnerName, 0);
        }
        catch (Exception ex) when (ex is not LeaseException)
        {
            RevokeInBackground(granted);
            if (cancel.IsCancellationRequested)
                throw new LeaseTimeoutException($"lease {Settings.LeaseName}: etcd ({Endpoints}) did not answer within lease-operation-timeout ({timeout.TotalMilliseconds:0}ms)", ex);
            throw new LeaseException($"lease {Settings.LeaseName}: could not reach etcd ({Endpoints}): {Describe(ex)}", ex);
        }
    }

    /// <summary>
    /// Creates the key on <paramref name="etcdLease"/> if it is absent, or takes it back if it already names this
    /// owner. Returns whether it is now ours, who holds it otherwise, and the etcd lease it was on before (the
    /// holder's, when another holds it).
    /// </summary>
    private async Task<(bool Won, string Holder, long Previous)> TakeKeyAsync(long etcdLease, CancellationToken cancel)
    {
        var create = new TxnRequest();
        create.Compare.Add(new Compare { Key = _key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        create.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = _key, Value = _owner, Lease = etcdLease } });
        create.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = _key } });
        var created = await _client.TransactionAsync(create, cancellationToken: cancel).ConfigureAwait(false);
        if (created.Succeeded)
            return (true, Settings.OwnerName, 0);

        var current = created.Responses[0].ResponseRange.Kvs[0];
        if (current.Value != _owner)
            return (false, current.Value.ToStringUtf8(), current.Lease);

        // Ours already, from a holding this node gave up on (or from before it restarted): etcd has let no one else
        // have it since, so move it onto the new etcd lease unless it changed meanwhile.
        var reclaim = new TxnRequest();
        reclaim.Compare.Add(new Compare { Key = _key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = current.ModRevision });
        reclaim.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = _key, Value = _owner, Lease = etcdLease } });
        var reclaimed = await _client.TransactionAsync(reclaim, cancellationToken: cancel).ConfigureAwait(false);
        if (reclaimed.Succeeded)
            _log.Warning("lease {0}: took back the key {1} this owner ({2}) still held on etcd lease {3:x}", Settings.LeaseName, Key, Settings.OwnerName, current.Lease);
        return (reclaimed.Succeeded, Settings.OwnerName, current.Lease);
    }

    /// <summary>Revokes the etcd lease, which deletes the key with it. False when etcd could not be told: then the key goes when the etcd lease expires.</summary>
    private async Task<bool> ReleaseAsync()
    {
        var tenure = _tenure;
        _tenure = null;
        if (tenure is null)
            return true;
        tenure.End();
        try
        {
            using var cancel = new CancellationTokenSource(Settings.TimeoutSettings.OperationTimeout, _time);
            await _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = tenure.EtcdLeaseId }, cancellationToken: cancel.Token).ConfigureAwait(false);
            _log.Info("lease {0} released by {1}", Settings.LeaseName, Settings.OwnerName);
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return true; // expired already: the key went with it
        }
        catch (Exception ex)
        {
            _log.Warning("lease {0}: could not release it ({1}); etcd frees it when its TTL ({2}s) runs out with no keepalive", Settings.LeaseName, Describe(ex), _etcd.Ttl.TotalSeconds);
            return false;
        }
    }

    private async Task<long> KeepAliveAsync(long etcdLease, TimeSpan within)
    {
        using var cancel = new CancellationTokenSource(within, _time);
        using var call = _client.GetConnection().LeaseClient.LeaseKeepAlive(cancellationToken: cancel.Token);
        await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = etcdLease }).ConfigureAwait(false);
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        if (!await call.ResponseStream.MoveNext(cancel.Token).ConfigureAwait(false))
            throw new LeaseException("etcd closed the keepalive stream without an answer");
        return call.ResponseStream.Current.TTL;
    }

    private void RevokeInBackground(long etcdLease)
    {
        if (etcdLease == 0)
            return;
        _ = Task.Run(async () =>
        {
            try
            {
                using var cancel = new CancellationTokenSource(Settings.TimeoutSettings.OperationTimeout, _time);
                await _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = etcdLease }, cancellationToken: cancel.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // It expires on its own within the TTL.
            }
        });
    }

    private string Endpoints => string.Join(", ", _etcd.Endpoints.Select(e => e.Authority));

    private static string Describe(Exception ex) => ex switch
    {
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        OperationCanceledException => "timed out",
        _ => ex.Message,
    };

    private static HashSet<string> InheritedKeys(ActorSystem system)
    {
        var defaults = system.Settings.Config.GetConfig("akka.coordination.lease");
        return defaults is null || !defaults.Root.IsObject() ? [] : defaults.Root.GetObject().Items.Keys.ToHashSet(StringComparer.Ordinal);
    }
}
