using Akka.Actor;
using Akka.Event;
using Virt.Actors.Balancer;
using Virt.Actors.Fencing;
using Virt.Actors.Vm;
using Virt.Node.Libvirt;
using Virt.Node.Readiness;

namespace Virt.Node.Agent;

/// <summary>Registry key of this host's node agent.</summary>
public sealed class NodeAgentKey;

/// <summary>
/// The node agent: owns this host's libvirt connection and does every domain operation through one worker, in order.
/// While libvirt is unreachable it says so at once (nothing is queued and silently lost), reconnects with backoff,
/// and tells every VM it manages when libvirt comes back. Lifecycle events are checked against the domain's actual
/// state before they are passed on (to the VM's entity, through the shard region), so an event that arrives late
/// (after a newer start) is dropped. It reports the host to the balancer when that changes and every report interval.
/// </summary>
internal sealed class NodeAgent : ReceiveActor, IWithTimers
{
    private readonly LibvirtOptions _options;
    private readonly string _nodeName;
    private readonly TimeSpan _reportInterval;
    private IActorRef _vms = ActorRefs.Nobody;
    private IActorRef _balancer = ActorRefs.Nobody;
    private IActorRef _fencer = ActorRefs.Nobody;
    private IActorRef _watchdog = ActorRefs.Nobody;

    /// <summary>The watchdog's timeout while it is armed (what the fencer's watchdog level counts on), else null.</summary>
    private TimeSpan? _armed;
    private readonly LibvirtWorker _worker = new();
    private bool _listing;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>
    /// Domains some VM has asked about (the ones Virt manages here; events of any other domain are none of Virt's
    /// business), each with the newest op of a request for it: the VM half of the fencing token.
    /// </summary>
    private readonly Dictionary<string, long> _managed = new(StringComparer.Ordinal);

    /// <summary>This host's incarnation (its cluster member's uid): requests meant for another one are refused.</summary>
    private readonly long _incarnation;
    private bool _connected;
    private string? _error = "not connected yet";
    private DateTimeOffset _since;
    private int _attempts;
    private HostInfo? _host;
    private string? _driver;
    private string? _hostBoot;
    private string _domainType = "test";
    private List<DomainSummary> _domains = [];

    /// <summary>XML last defined per domain (worker thread only): a start re-defines only when the spec changed, since defining validates against libvirt's schema and costs more than the start.</summary>
    private readonly Dictionary<string, string> _defined = new(StringComparer.Ordinal);

    /// <summary>Per domain (worker thread only): whether it ran when last seen, and the number of that sighting (see <see cref="DomainStateChanged.Seen"/>).</summary>
    private readonly Dictionary<string, (long Seen, bool Running)> _sightings = new(StringComparer.Ordinal);
    private long _lastSighting;

    private readonly IReadOnlyDictionary<string, string> _attributes;

    /// <summary>Per VM: the run whose guest is watched for its readiness check, and its watch (a child).</summary>
    private readonly Dictionary<string, (long Op, IActorRef Watch)> _watches = new(StringComparer.Ordinal);
    private long _watchNumber;

    /// <summary>Set once the cluster let this node go and it fenced itself (<see cref="SelfFence"/>): it takes no more domain work and tells the cluster nothing more.</summary>
    private bool _fenced;

    public NodeAgent(LibvirtOptions options, string nodeName, TimeSpan reportInterval, IReadOnlyDictionary<string, string> attributes)
    {
        _attributes = attributes;
        _options = options;
        _nodeName = nodeName;
        _reportInterval = reportInterval;
        _since = Context.System.Scheduler.Now;
        _incarnation = Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress.Uid;

        Receive<Wire>(wire =>
        {
            (_vms, _balancer, _fencer, _watchdog) = (wire.Vms, wire.Balancer, wire.Fencer, wire.Watchdog);
            _watchdog.Tell(new GetWatchdog());
            ReportHost();
        });
        Receive<Connect>(_ => Open());
        Receive<Connected>(OnConnected);
        Receive<ConnectFailed>(failed => Disconnected(failed.Cause.Message));
        Receive<Lost>(lost =>
        {
            _listing = false;
            if (_connected)
                Disconnected(lost.Reason);
        });
        Receive<DomainRequest>(request =>
        {
            if (Refusal(request) is { } refusal)
            {
                _log.Warning("refused {0} of {1}: {2}", Kind(request), request.Name, refusal);
                Sender.Tell(new DomainRequestDone(request.Name, request.Op, Kind(request), DomainOutcome.Stale, _nodeName, refusal));
                return;
            }

            _managed[request.Name] = Math.Max(request.Op, _managed.GetValueOrDefault(request.Name, long.MinValue));
            if (request is WatchReadiness watch)
            {
                StartWatch(watch);
                return;
            }

            if (request is StartDomain or UndefineDomain)
                Unwatch(request.Name, olderThan: request.Op); // a new run (or none) for this VM
            if (_connected)
                Execute(request, Sender);
            else
                Sender.Tell(Unavailable(request));
        });
        Receive<LibvirtEvent>(e =>
        {
            if (!_connected || e.Event.Type is not (DomainEventType.Stopped or DomainEventType.Started or DomainEventType.Crashed) || !_managed.ContainsKey(e.Event.Name))
                return;
            _worker.Run(() =>
            {
                var st = State(e.Event.Name);
                var running = st is { } x && Runs(x.State);
                return new Verified(e.Event, st is not null, running, Sighting(e.Event.Name, running));
            }).PipeTo(Self, failure: ex => new Lost(ex.Message));
        });
        Receive<Terminated>(ended =>
        {
            foreach (var (name, watch) in _watches.Where(w => w.Value.Watch.Equals(ended.ActorRef)).ToList())
                _watches.Remove(name);
        });
        Receive<DomainControl>(Control);
        Receive<FenceSelf>(FenceItself);
        Receive<Verified>(Forward);
        Receive<WatchdogStatus>(status =>
        {
            var armed = status.Armed ? status.Timeout : null;
            if (armed == _armed)
                return;
            _armed = armed;
            _fencer.Tell(new FencerProtocol.HostSeen(_nodeName, _incarnation, _armed));
        });
        Receive<Report>(_ =>
        {
            _watchdog.Tell(new GetWatchdog()); // its answer goes into the next report
            // Report now, with the domains as last listed: the listing queues behind the domain work on the libvirt
            // worker, and under a burst of starts a report that waited for it reached the balancer late enough
            // for the host to count as silent (it then takes no new VMs). One listing at a time.
            ReportHost();
            if (!_connected || _listing)
                return;
            _listing = true;
            _worker.Run(() => _worker.Connection!.ListDomains()).PipeTo(Self, success: d => new Listed(d), failure: ex => new Lost(ex.Message));
        });
        Receive<Listed>(listed =>
        {
            _listing = false;
            var before = Running();
            _domains = listed.Domains;
            if (!before.SequenceEqual(Running()))
                ReportHost(); // what runs here changed since the report just sent
        });
        Receive<GetHealth>(_ => Sender.Tell(new Health(_connected, _error)));
        Receive<GetNodeStatus>(_ =>
        {
            if (!_connected)
            {
                Sender.Tell(Status());
                return;
            }

            var replyTo = Sender;
            _worker.Run(() => _worker.Connection!.ListDomains()).PipeTo(Self, success: d => new Refreshed(d, replyTo), failure: ex => new Lost(ex.Message));
        });
        Receive<Refreshed>(refreshed =>
        {
            _domains = refreshed.Domains;
            refreshed.ReplyTo.Tell(Status());
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(LibvirtOptions options, string nodeName, TimeSpan reportInterval, IReadOnlyDictionary<string, string> attributes) =>
        Akka.Actor.Props.Create(() => new NodeAgent(options, nodeName, reportInterval, attributes));

    /// <summary>
    /// Who hears from the agent: the <c>vm</c> shard region (lifecycle events, to each VM's entity) and the balancer
    /// (host reports). Sent once both exist; they are created after the agent, since VM entities need the agent.
    /// </summary>
    public sealed record Wire(IActorRef Vms, IActorRef Balancer, IActorRef Fencer, IActorRef Watchdog);

    private sealed record Connect;

    private sealed record Connected(HostInfo Host, string Driver, List<DomainSummary> Domains, string? HostBoot);

    private sealed record ConnectFailed(Exception Cause);

    private sealed record Lost(string Reason);

    private sealed record LibvirtEvent(DomainLifecycleEvent Event);

    private sealed record Verified(DomainLifecycleEvent Event, bool Exists, bool Running, long Seen);

    private sealed record Refreshed(List<DomainSummary> Domains, IActorRef ReplyTo);

    private sealed record Report;

    private sealed record Listed(List<DomainSummary> Domains);

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(WatchdogStatus));
        Self.Tell(new Connect());
        Timers.StartPeriodicTimer("report", new Report(), _reportInterval);
    }

    protected override void PostStop() => _worker.Dispose();

    private void OnConnected(Connected connected)
    {
        _connected = true;
        _error = null;
        _attempts = 0;
        _since = Context.System.Scheduler.Now;
        (_host, _driver, _domains, _hostBoot) = (connected.Host, connected.Driver, connected.Domains, connected.HostBoot);
        _domainType = DomainType(connected.Driver);
        _log.Info("libvirt {0} connected ({1}, {2} CPUs, {3} MiB, {4} domains)", _options.ResolvedUri, connected.Driver, connected.Host.Cpus, connected.Host.MemoryBytes >> 20, connected.Domains.Count);
        ReportHost();
        foreach (var name in _managed.Keys)
            _vms.Tell(new HostAvailable(name, _nodeName));
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
                var driver = connection.DriverType();
                var connected = new Connected(connection.HostInfo(), driver, connection.ListDomains(), HostBoot(uri, driver));
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

    /// <summary>
    /// Who the host is since it last booted: a VM found stopped under another boot was stopped by the host's restart.
    /// libvirt's test driver keeps its domains only as long as its connection (they end with virt-node), so each
    /// connection is a boot of its own; a local hypervisor has the kernel's boot id; a remote one is unknown.
    /// </summary>
    private static string? HostBoot(string uri, string driver)
    {
        if (driver.Equals("test", StringComparison.OrdinalIgnoreCase))
            return "test-" + Guid.NewGuid().ToString("N");
        if (Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && string.IsNullOrEmpty(parsed.Host) && File.Exists("/proc/sys/kernel/random/boot_id"))
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        return null;
    }

    private void Disconnected(string error)
    {
        var was = _connected;
        _connected = false;
        _error = $"libvirt at {_options.ResolvedUri} is unreachable: {error}";
        _attempts++;
        if (was)
            _since = Context.System.Scheduler.Now;
        var delay = TimeSpan.FromTicks(Math.Min(_options.ReconnectMin.Ticks * (1L << Math.Min(_attempts - 1, 20)), _options.ReconnectMax.Ticks));
        _log.Warning("{0}; retrying in {1} ms (attempt {2})", _error, delay.TotalMilliseconds, _attempts);
        Timers.StartSingleTimer("reconnect", new Connect(), delay);
        if (was || _attempts == 1)
            ReportHost();
    }

    /// <summary>Self-fence: refuses all domain work from now on and destroys (or counts) Virt's running domains, on the worker, after what is queued there.</summary>
    private void FenceItself(FenceSelf fence)
    {
        _fenced = true;
        (_vms, _balancer, _fencer) = (ActorRefs.Nobody, ActorRefs.Nobody, ActorRefs.Nobody); // out of the cluster: no more events or host reports from here
        _log.Warning("{0}: refusing every domain request from now on", fence.Cause);
        foreach (var name in _watches.Keys.ToList())
            Unwatch(name);
        var uri = _options.ResolvedUri;
        _worker.Run(() =>
        {
            // Not connected (libvirtd restarting, say): one more try, since domains left running may run twice.
            using var own = _worker.Connection is null ? LibvirtConnection.Open(uri) : null;
            return SelfFence.Apply(_worker.Connection ?? own!, fence.Destroy);
        }).PipeTo(Sender, failure: ex => new SelfFenced(fence.Destroy, [], 0, [], $"{uri}: {(ex is LibvirtException l ? l.LibvirtMessage : ex.Message)}"));
    }

    /// <summary>Starts watching the guest of run <paramref name="watch"/>.Op, unless that run (or a newer one) is watched already.</summary>
    private void StartWatch(WatchReadiness watch)
    {
        if (_watches.TryGetValue(watch.Name, out var current) && current.Op >= watch.Op)
            return;
        Unwatch(watch.Name, olderThan: watch.Op);
        var check = watch.Spec.ReadyCheck;
        IReadinessProbe? probe = check.Kind switch
        {
            ReadinessKind.VirtioSignal => new StartupSignalProbe(DomainXml.StartupSignalSocket(_options.ResolvedChannelDir, watch.Spec.Uuid)),
            ReadinessKind.GuestAgent => new GuestAgentProbe(_options.ResolvedUri, watch.Name),
            ReadinessKind.Tcp => new TcpProbe(check.Tcp!),
            _ => null,
        };
        if (probe is null)
            return;
        // Numbered: a stopped watch's name stays taken until it has terminated, and the same run may be watched again.
        var actor = Context.ActorOf(ReadinessWatch.Props(watch.Name, watch.Op, probe, _vms, _nodeName), $"ready-{watch.Name}-{watch.Op}-{++_watchNumber}");
        Context.Watch(actor);
        _watches[watch.Name] = (watch.Op, actor);
    }

    /// <summary>Stops the readiness watch of <paramref name="name"/> if it is for a run before <paramref name="olderThan"/>.</summary>
    private void Unwatch(string name, long olderThan = long.MaxValue)
    {
        if (!_watches.TryGetValue(name, out var current) || current.Op >= olderThan)
            return;
        Context.Unwatch(current.Watch);
        Context.Stop(current.Watch);
        _watches.Remove(name);
    }

    private void ReportHost()
    {
        _balancer.Tell(new BalancerProtocol.HostReport(
            _nodeName, _host?.Cpus ?? 0, (_host?.MemoryBytes ?? 0) >> 20, _attributes, HostState.Up, _connected && _host is not null,
            Running(), _incarnation));
        _fencer.Tell(new FencerProtocol.HostSeen(_nodeName, _incarnation, _armed));
    }

    private List<string> Running() => _domains.Where(d => Runs(d.State)).Select(d => d.Name).ToList();

    /// <summary>Why the request's fencing token is not good here, or null when it is.</summary>
    private string? Refusal(DomainRequest request)
    {
        if (_fenced)
            return SelfFence.Refusal;
        if (request.Incarnation != _incarnation)
            return $"it was meant for incarnation {request.Incarnation} of host {_nodeName}, and this is incarnation {_incarnation} (the host restarted since); nothing was done";
        if (_managed.TryGetValue(request.Name, out var newest) && request.Op < newest)
            return $"its op {request.Op} is older than op {newest} already seen for {request.Name}; nothing was done";
        return null;
    }

    private DomainRequestDone Unavailable(DomainRequest request) =>
        new(request.Name, request.Op, Kind(request), DomainOutcome.Unavailable, _nodeName,
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

            return new DomainRequestDone(request.Name, request.Op, Kind(request), DomainOutcome.Failed, _nodeName, ex is LibvirtException l ? l.LibvirtMessage : ex.Message);
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
                if (start.Spec.ReadyCheck.Kind == ReadinessKind.VirtioSignal)
                    PrepareChannelDir(start.Spec);
                var xml = DomainXml.Render(start.Spec, _domainType, _options.VncListen, _options.ResolvedChannelDir);
                var state = c.State(start.Name);
                if (state is null || !_defined.TryGetValue(start.Name, out var known) || known != xml)
                {
                    c.Define(xml);
                    _defined[start.Name] = xml;
                    state = c.State(start.Name);
                }

                if (state is not { } s || !Runs(s.State))
                    c.Start(start.Name);
                return new DomainRequestDone(request.Name, request.Op, kind, DomainOutcome.Done, _nodeName, Seen: Sighting(start.Name, running: true), HostBoot: _hostBoot);
            case StopDomain stop:
                if (c.State(stop.Name) is { } before && Runs(before.State))
                {
                    if (stop.Force)
                        c.Destroy(stop.Name);
                    else
                        c.Shutdown(stop.Name);
                }

                var stopped = c.State(stop.Name) is not { } after || !Runs(after.State);
                return new DomainRequestDone(request.Name, request.Op, kind, DomainOutcome.Done, _nodeName, StoppedNow: stopped, Seen: Sighting(stop.Name, !stopped));
            case UndefineDomain undefine:
                if (c.State(undefine.Name) is { } current)
                {
                    if (Runs(current.State))
                        c.Destroy(undefine.Name);
                    c.Undefine(undefine.Name);
                }

                _defined.Remove(undefine.Name);
                return new DomainRequestDone(request.Name, request.Op, kind, DomainOutcome.Done, _nodeName, StoppedNow: true, Seen: Sighting(undefine.Name, running: false));
            case ObserveDomain observe:
                var observed = c.State(observe.Name);
                var runs = observed is { } st && Runs(st.State);
                return new DomainObservation(observe.Name, observe.Op, observed is not null, runs, _nodeName, Sighting(observe.Name, runs), _hostBoot);
            default:
                throw new ArgumentException($"unknown request {request.GetType().Name}");
        }
    }

    /// <summary>The directory of startup_signal sockets must exist, and QEMU's user must reach it (libvirt makes the socket).</summary>
    private void PrepareChannelDir(VmSpec spec)
    {
        var path = DomainXml.StartupSignalSocket(_options.ResolvedChannelDir, spec.Uuid);
        if (path.Length > DomainXml.MaxSocketPath)
            throw new InvalidOperationException($"the startup_signal socket {path} is longer than {DomainXml.MaxSocketPath} characters, the most a UNIX socket path may have; set virt.libvirt.channel-dir to a shorter directory");
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("virtio-signal readiness needs a Linux host");
        Directory.CreateDirectory(_options.ResolvedChannelDir, (UnixFileMode)0b111_101_101);
    }

    /// <summary>
    /// An operator's action on a domain here (read, reset, keys). Not fenced by op: it changes nothing the VM's
    /// entity decides on; but only this incarnation of the host takes it, and only for a domain that runs (but a read).
    /// </summary>
    private void Control(DomainControl control)
    {
        var action = control switch { ReadDomain => "read", ResetDomain => "reset", _ => "send-key" };
        var replyTo = Sender;
        object Refuse(string why) => control is ReadDomain
            ? new DomainDetails(control.Name, _nodeName, false, false, 0, 0, null, why)
            : new DomainControlDone(control.Name, _nodeName, action, why);
        if (control.Incarnation != _incarnation)
        {
            replyTo.Tell(Refuse($"it was meant for incarnation {control.Incarnation} of host {_nodeName}, and this is incarnation {_incarnation}; nothing was done"));
            return;
        }

        if (!_connected)
        {
            replyTo.Tell(Refuse($"{_error}; nothing was done"));
            return;
        }

        var self = Self;
        _worker.Run<object>(() =>
        {
            var c = _worker.Connection ?? throw new LibvirtException(LibvirtException.ErrorCodes.NoConnect, 0, "not connected", "libvirt");
            var state = c.State(control.Name);
            if (control is ReadDomain)
            {
                if (state is null)
                    return new DomainDetails(control.Name, _nodeName, false, false, 0, 0, null, $"there is no domain {control.Name} on {_nodeName}");
                var info = c.Info(control.Name);
                return new DomainDetails(control.Name, _nodeName, true, Runs(state.Value.State), info.VirtCpus, info.MaxMemoryBytes >> 20, c.Xml(control.Name));
            }

            if (state is not { } s || !Runs(s.State))
                return new DomainControlDone(control.Name, _nodeName, action, $"{control.Name} does not run on {_nodeName}");
            if (control is SendDomainKeys keys)
                c.SendKey(control.Name, [.. keys.Keycodes], keys.HoldMs);
            else
                c.Reset(control.Name);
            return new DomainControlDone(control.Name, _nodeName, action);
        }).PipeTo(replyTo, failure: ex =>
        {
            if (ex is LibvirtException { IsConnectionLost: true })
                self.Tell(new Lost(ex.Message));
            return Refuse(ex is LibvirtException l ? l.LibvirtMessage : ex.Message);
        });
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
        DomainStateChanged? change = (v.Event.Type, v.Running) switch
        {
            (DomainEventType.Stopped or DomainEventType.Crashed, false) => new DomainStateChanged(v.Event.Name, false, Reason(v.Event), _nodeName, v.Seen),
            (DomainEventType.Started, true) => new DomainStateChanged(v.Event.Name, true, "started", _nodeName, v.Seen, _hostBoot),
            _ => null, // stale: the domain has moved on since
        };
        if (change is { Running: false })
            Unwatch(change.Name); // the run is over
        if (change is not null)
            _vms.Tell(change);
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
        WatchReadiness => "watch-ready",
        _ => "observe",
    };

    private NodeStatus Status() => new(
        _nodeName, _options.ResolvedUri, _connected, _error, _since, _driver, _host?.Model, _host?.Cpus ?? 0, _host?.MemoryBytes ?? 0, _attempts,
        _domains.Select(d => new DomainEntry(d.Name, d.Uuid, d.State.ToString().ToLowerInvariant(), d.Id)).ToList());
}
