using Microsoft.Extensions.Logging;
using Virt.Actors.Runtime;
using Virt.Actors.Vm;
using Virt.Node.Libvirt;

namespace Virt.Node.Agent;

/// <summary>
/// The node agent: owns this host's libvirt connection and does every domain operation through one worker, in order.
/// While libvirt is unreachable it says so at once (nothing is queued and silently lost), reconnects with backoff,
/// and tells its subscribers when libvirt comes back. Lifecycle events are checked against the domain's actual
/// state before they are passed on, so an event that arrives late (after a newer start) is dropped.
/// </summary>
internal sealed class NodeActor : Actor
{
    private readonly LibvirtOptions _options;
    private readonly string _nodeName;
    private readonly LibvirtWorker _worker = new();
    private readonly List<Subscribe> _subscribers = [];
    private bool _connected;
    private string? _error = "not connected yet";
    private DateTimeOffset _since;
    private int _attempts;
    private HostInfo? _host;
    private string? _driver;
    private string _domainType = "test";
    private List<DomainSummary> _domains = [];

    /// <summary>XML last defined per domain (worker thread only): a start re-defines only when the spec changed, since defining validates against libvirt's schema and costs more than the start.</summary>
    private readonly Dictionary<string, string> _defined = new(StringComparer.Ordinal);

    /// <summary>Per domain (worker thread only): whether it ran when last seen, and the number of that sighting (see <see cref="DomainStateChanged.Seen"/>).</summary>
    private readonly Dictionary<string, (long Seen, bool Running)> _sightings = new(StringComparer.Ordinal);
    private long _lastSighting;

    public NodeActor(LibvirtOptions options, string nodeName)
    {
        _options = options;
        _nodeName = nodeName;
        _since = Context.Time.GetUtcNow();
    }

    public static Props Props(LibvirtOptions options, string nodeName) => Actors.Runtime.Props.Create(() => new NodeActor(options, nodeName));

    /// <summary>Tells <paramref name="Subscriber"/> when libvirt comes and goes, and, with <paramref name="DomainEvents"/>, every domain's lifecycle changes.</summary>
    public sealed record Subscribe(IActorRef Subscriber, bool DomainEvents = true);

    private sealed record Connect;

    private sealed record Connected(HostInfo Host, string Driver, List<DomainSummary> Domains);

    private sealed record ConnectFailed(Exception Cause);

    private sealed record Lost(string Reason);

    private sealed record LibvirtEvent(DomainLifecycleEvent Event);

    private sealed record Verified(DomainLifecycleEvent Event, bool Exists, bool Running, long Seen);

    private sealed record Refreshed(List<DomainSummary> Domains, IActorRef ReplyTo);

    protected override void PreStart() => Self.Tell(new Connect());

    protected override void PostStop() => _worker.Dispose();

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Subscribe subscribe:
                _subscribers.Add(subscribe);
                subscribe.Subscriber.Tell(Availability());
                break;
            case Connect:
                Open();
                break;
            case Connected connected:
                _connected = true;
                _error = null;
                _attempts = 0;
                _since = Context.Time.GetUtcNow();
                (_host, _driver, _domains) = (connected.Host, connected.Driver, connected.Domains);
                _domainType = DomainType(connected.Driver);
                Log.LogInformation("libvirt {Uri} connected ({Driver}, {Cpus} CPUs, {MemoryMiB} MiB, {Domains} domains)",
                    _options.ResolvedUri, connected.Driver, connected.Host.Cpus, connected.Host.MemoryBytes >> 20, connected.Domains.Count);
                Broadcast();
                break;
            case ConnectFailed failed:
                Disconnected(failed.Cause.Message);
                break;
            case Lost lost when _connected:
                Disconnected(lost.Reason);
                break;
            case Lost:
                break;
            case DomainRequest request when !_connected:
                Sender.Tell(Unavailable(request));
                break;
            case DomainRequest request:
                Execute(request, Sender);
                break;
            case LibvirtEvent { Event.Type: DomainEventType.Stopped or DomainEventType.Started or DomainEventType.Crashed } e when _connected:
                _worker.Run(() =>
                {
                    var st = State(e.Event.Name);
                    var running = st is { } x && Runs(x.State);
                    return new Verified(e.Event, st is not null, running, Sighting(e.Event.Name, running));
                }).PipeTo(Self, failure: ex => new Lost(ex.Message));
                break;
            case LibvirtEvent:
                break;
            case Verified v:
                Forward(v);
                break;
            case GetHealth:
                Sender.Tell(new Health(_connected, _error));
                break;
            case GetNodeStatus when _connected:
                var replyTo = Sender;
                _worker.Run(() => _worker.Connection!.ListDomains()).PipeTo(Self, success: d => new Refreshed(d, replyTo), failure: ex => new Lost(ex.Message));
                break;
            case GetNodeStatus:
                Sender.Tell(Status());
                break;
            case Refreshed refreshed:
                _domains = refreshed.Domains;
                refreshed.ReplyTo.Tell(Status());
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Open()
    {
        var self = Self;
        var uri = _options.ResolvedUri;
        _worker.Run(() =>
        {
            _worker.Connection?.Dispose();
            _worker.Connection = null;
            _defined.Clear(); // a new connection may be to a different libvirt state
            var connection = LibvirtConnection.Open(uri);
            try
            {
                connection.TrySetKeepAlive(_options.KeepaliveInterval, _options.KeepaliveCount);
                connection.SubscribeLifecycle(e => self.Tell(new LibvirtEvent(e)));
                connection.TryOnClosed(reason => self.Tell(new Lost($"libvirt closed the connection (reason {reason})")));
                var connected = new Connected(connection.HostInfo(), connection.DriverType(), connection.ListDomains());
                _worker.Connection = connection;
                return connected;
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }).PipeTo(Self, failure: ex => new ConnectFailed(ex));
    }

    private void Disconnected(string error)
    {
        var was = _connected;
        _connected = false;
        _error = $"libvirt at {_options.ResolvedUri} is unreachable: {error}";
        _attempts++;
        if (was)
            _since = Context.Time.GetUtcNow();
        var delay = TimeSpan.FromTicks(Math.Min(_options.ReconnectMin.Ticks * (1L << Math.Min(_attempts - 1, 20)), _options.ReconnectMax.Ticks));
        Log.LogWarning("{Error}; retrying in {DelayMs} ms (attempt {Attempt})", _error, delay.TotalMilliseconds, _attempts);
        Context.Timers.StartSingleTimer("reconnect", new Connect(), delay);
        if (was || _attempts == 1)
            Broadcast();
    }

    private void Broadcast()
    {
        var availability = Availability();
        foreach (var subscriber in _subscribers)
            subscriber.Subscriber.Tell(availability);
    }

    private NodeAvailability Availability() =>
        _connected && _host is { } host ? new(true, null, host.Cpus, host.MemoryBytes >> 20) : new(false, _error);

    private DomainRequestDone Unavailable(DomainRequest request) =>
        new(request.Name, request.Op, Kind(request), DomainOutcome.Unavailable,
            $"{_error}; retrying every {_options.ReconnectMax.TotalSeconds:0} s at most");

    private void Execute(DomainRequest request, IActorRef replyTo)
    {
        var self = Self;
        _worker.Run(() => Perform(request)).PipeTo(replyTo, failure: ex =>
        {
            if (ex is LibvirtException { IsConnectionLost: true } or NullReferenceException)
            {
                self.Tell(new Lost(ex.Message));
                return Unavailable(request) with { Error = ex.Message };
            }

            return new DomainRequestDone(request.Name, request.Op, Kind(request), DomainOutcome.Failed, ex is LibvirtException l ? l.LibvirtMessage : ex.Message);
        });
    }

    /// <summary>Runs on the worker thread.</summary>
    private object Perform(DomainRequest request)
    {
        var c = _worker.Connection ?? throw new LibvirtException(LibvirtException.ErrorCodes.NoConnect, 0, "not connected", "libvirt");
        var kind = Kind(request);
        switch (request)
        {
            case StartDomain start:
                var xml = DomainXml.Render(start.Spec, _domainType);
                var state = c.State(start.Name);
                if (state is null || !_defined.TryGetValue(start.Name, out var known) || known != xml)
                {
                    c.Define(xml);
                    _defined[start.Name] = xml;
                    state = c.State(start.Name);
                }

                if (state is not { } s || !Runs(s.State))
                    c.Start(start.Name);
                return new DomainRequestDone(request.Name, request.Op, kind, DomainOutcome.Done, Seen: Sighting(start.Name, running: true));
            case StopDomain stop:
                if (c.State(stop.Name) is { } before && Runs(before.State))
                {
                    if (stop.Force)
                        c.Destroy(stop.Name);
                    else
                        c.Shutdown(stop.Name);
                }

                var stopped = c.State(stop.Name) is not { } after || !Runs(after.State);
                return new DomainRequestDone(request.Name, request.Op, kind, DomainOutcome.Done, StoppedNow: stopped, Seen: Sighting(stop.Name, !stopped));
            case UndefineDomain undefine:
                if (c.State(undefine.Name) is { } current)
                {
                    if (Runs(current.State))
                        c.Destroy(undefine.Name);
                    c.Undefine(undefine.Name);
                }

                _defined.Remove(undefine.Name);

                return new DomainRequestDone(request.Name, request.Op, kind, DomainOutcome.Done, StoppedNow: true, Seen: Sighting(undefine.Name, running: false));
            case ObserveDomain observe:
                var observed = c.State(observe.Name);
                var runs = observed is { } st && Runs(st.State);
                return new DomainObservation(observe.Name, observe.Op, observed is not null, runs, Sighting(observe.Name, runs));
            default:
                throw new ArgumentException($"unknown request {request.GetType().Name}");
        }
    }

    /// <summary>Runs on the worker thread: records whether the domain runs now, numbering each change.</summary>
    private long Sighting(string name, bool running)
    {
        if (!_sightings.TryGetValue(name, out var last) || last.Running != running)
            _sightings[name] = last = (++_lastSighting, running);
        return last.Seen;
    }

    private (DomainRunState State, int Reason)? State(string name) =>
        (_worker.Connection ?? throw new LibvirtException(LibvirtException.ErrorCodes.NoConnect, 0, "not connected", "libvirt")).State(name);

    private void Forward(Verified v)
    {
        object? change = (v.Event.Type, v.Running) switch
        {
            (DomainEventType.Stopped or DomainEventType.Crashed, false) => new DomainStateChanged(v.Event.Name, false, Reason(v.Event), v.Seen),
            (DomainEventType.Started, true) => new DomainStateChanged(v.Event.Name, true, "started", v.Seen),
            _ => null, // stale: the domain has moved on since
        };
        if (change is null)
            return;
        foreach (var subscriber in _subscribers.Where(s => s.DomainEvents))
            subscriber.Subscriber.Tell(change);
    }

    private static string Reason(DomainLifecycleEvent e) => e.Type == DomainEventType.Crashed
        ? "crashed"
        : e.Stopped switch
        {
            StoppedDetail.Shutdown => "shutdown",
            StoppedDetail.Destroyed => "destroyed",
            StoppedDetail.Crashed => "crashed",
            StoppedDetail.Failed => "failed",
            StoppedDetail.Migrated => "migrated",
            StoppedDetail.Saved => "saved",
            _ => "unknown",
        };

    private static bool Runs(DomainRunState state) => state is DomainRunState.Running or DomainRunState.Blocked or DomainRunState.Paused;

    private string DomainType(string driver) => _options.DomainType != "auto"
        ? _options.DomainType
        : driver.Equals("test", StringComparison.OrdinalIgnoreCase) ? "test" : File.Exists("/dev/kvm") ? "kvm" : "qemu";

    private static string Kind(DomainRequest request) => request switch
    {
        StartDomain => "start",
        StopDomain => "stop",
        UndefineDomain => "undefine",
        _ => "observe",
    };

    private NodeStatus Status() => new(
        _nodeName, _options.ResolvedUri, _connected, _error, _since, _driver, _host?.Model, _host?.Cpus ?? 0, _host?.MemoryBytes ?? 0, _attempts,
        _domains.Select(d => new DomainEntry(d.Name, d.Uuid, d.State.ToString().ToLowerInvariant())).ToList());
}
