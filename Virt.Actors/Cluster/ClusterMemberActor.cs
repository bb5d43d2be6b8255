using Microsoft.Extensions.Logging;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Runtime;
using Virt.Actors.Vm;

namespace Virt.Actors.Cluster;

/// <summary>
/// This node's membership: holds its lease, registers it (address, roles, capacity, a fresh incarnation), and
/// campaigns for the balancer singleton. When the lease is lost the node stops holding anything at once and joins
/// again as a new incarnation; when the store cannot be reached it retries with backoff. Learns the host's
/// capacity from the node agent.
/// </summary>
internal sealed class ClusterMemberActor(ICoordination store, ClusterOptions options, string name, IReadOnlyList<string> roles) : Actor
{
    public const string Balancer = "balancer";

    private static readonly TimeSpan RetryMin = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(5);
    private Dictionary<string, double> _capacity = [];
    private string? _address;
    private Joined? _joined;
    private MemberState _state = MemberState.Joining;
    private string? _error = "waiting for the API to listen";
    private int _attempts;
    private bool _leaving;

    public static Props Props(ICoordination store, ClusterOptions options, string name, IReadOnlyList<string> roles) =>
        Runtime.Props.Create(() => new ClusterMemberActor(store, options, name, roles));

    private sealed record Join;

    private sealed record Joined(NodeLease Lease, ClusterMembership Membership, SingletonElection Election)
    {
        public MemberInfo Member => Membership.Self!;
    }

    private sealed record JoinFailed(Exception Cause);

    private sealed record LeaseLost(long Lease, string Reason);

    private sealed record Published;

    private sealed record PublishFailed(Exception Cause);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case ClusterProtocol.JoinAt at when _address is null:
                _address = at.Address;
                Self.Tell(new Join());
                break;
            case ClusterProtocol.JoinAt:
                break;
            case Join when _joined is null && !_leaving:
                _state = _state == MemberState.LeaseLost ? _state : MemberState.Joining;
                JoinAsync(new Dictionary<string, double>(_capacity)).PipeTo(Self, failure: ex => new JoinFailed(ex));
                break;
            case Join:
                break;
            case Joined joined when _leaving:
                _ = Quit(joined, graceful: true); // a leave was asked while joining
                break;
            case Joined joined:
                _joined = joined;
                _state = MemberState.Joined;
                _error = null;
                _attempts = 0;
                Log.LogInformation("{Node} joined the cluster as incarnation {Incarnation} (lease {Lease:x}, TTL {Ttl})",
                    name, joined.Member.Incarnation, joined.Lease.Id, options.LeaseTtl);
                joined.Lease.WhenLost.PipeTo(Self, success: reason => new LeaseLost(joined.Lease.Id, reason));
                break;
            case JoinFailed failed:
                _attempts++;
                _error = failed.Cause.Message;
                var delay = TimeSpan.FromTicks(Math.Min(RetryMin.Ticks << Math.Min(_attempts - 1, 10), RetryMax.Ticks));
                Log.LogWarning("{Node} cannot join the cluster (attempt {Attempt}): {Error}; retrying in {DelayMs} ms", name, _attempts, _error, delay.TotalMilliseconds);
                Context.Timers.StartSingleTimer("join", new Join(), delay);
                break;
            case LeaseLost lost when _joined?.Lease.Id == lost.Lease:
                // The singletons stepped down on their own (they check the lease); the record expires with the lease.
                Log.LogCritical("{Node} lost its lease ({Reason}); it holds nothing now and joins again as a new incarnation", name, lost.Reason);
                _ = Quit(_joined, graceful: false);
                _joined = null;
                _state = MemberState.LeaseLost;
                _error = lost.Reason;
                Context.Timers.StartSingleTimer("join", new Join(), options.KeepaliveInterval);
                break;
            case LeaseLost:
                break;
            case NodeAvailability { Available: true, Cpus: > 0 } host:
                _capacity = new Dictionary<string, double> { ["vcpu"] = host.Cpus, ["memory_mib"] = host.MemoryMib };
                if (_joined is { } j && !j.Member.Capacity.SequenceEqual(_capacity))
                {
                    j.Membership.UpdateAsync(j.Member with { Capacity = _capacity }).PipeTo(Self, success: () => new Published(), failure: ex => new PublishFailed(ex));
                }

                break;
            case NodeAvailability:
                break;
            case Published:
                break;
            case PublishFailed failed:
                // The record keeps the old capacity until the next rejoin or the next change; the lease is unaffected.
                Log.LogWarning("{Node} could not publish its capacity: {Error}", name, failed.Cause.Message);
                break;
            case ClusterProtocol.GetStanding:
                var member = _joined?.Member;
                Sender.Tell(new ClusterProtocol.Standing(name, _state, _error, member?.Incarnation, _joined?.Lease.Deadline, _joined?.Election.IsLeader == true, _attempts));
                break;
            case ClusterProtocol.Leave:
                _leaving = true;
                _state = MemberState.Left;
                Context.Timers.Cancel("join");
                var replyTo = Sender;
                Quit(_joined, graceful: true).PipeTo(replyTo, success: () => new ClusterProtocol.Left(), failure: _ => new ClusterProtocol.Left());
                _joined = null;
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void PostStop() => _ = Quit(_joined, graceful: false);

    private async Task<Joined> JoinAsync(Dictionary<string, double> capacity)
    {
        var log = Log;
        var time = Context.Time;
        var lease = await NodeLease.AcquireAsync(store, options.Lease, time, log).ConfigureAwait(false);
        try
        {
            var self = new MemberInfo(name, _address!, roles, capacity, Guid.NewGuid().ToString("N")[..16], lease.Id, time.GetUtcNow());
            var membership = await ClusterMembership.JoinAsync(store, self, log).ConfigureAwait(false);
            var election = new SingletonElection(store, Balancer, name, lease, log);
            election.Start();
            return new Joined(lease, membership, election);
        }
        catch
        {
            await lease.ReleaseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops taking part. Graceful: resign, deregister, revoke, so others take over at once. Otherwise the lease just lapses.</summary>
    private static async Task Quit(Joined? joined, bool graceful)
    {
        if (joined is null)
            return;
        if (graceful)
        {
            await joined.Election.ResignAsync().ConfigureAwait(false);
            try
            {
                await joined.Membership.LeaveAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is CoordinationUnavailableException or OperationCanceledException)
            {
                // The lease revoke below, or its expiry, removes the record anyway.
            }

            await joined.Membership.DisposeAsync().ConfigureAwait(false);
            await joined.Lease.ReleaseAsync().ConfigureAwait(false);
        }
        else
        {
            await joined.Election.DisposeAsync().ConfigureAwait(false);
            await joined.Membership.DisposeAsync().ConfigureAwait(false);
            await joined.Lease.DisposeAsync().ConfigureAwait(false);
        }
    }
}
