using Akka;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Microsoft.Extensions.Hosting.Systemd;
using Virt.Actors.Fencing;
using Virt.Node.Fence;

namespace Virt.Node.Agent;

/// <summary>Registry key of this node's watchdog petter.</summary>
public sealed class WatchdogKey;

/// <summary>
/// Pets this host's watchdog (virt.fencing.watchdog) every interval while this node is a healthy member of the cluster
/// (<see cref="MembershipHealth"/>), and notifies systemd (WATCHDOG=1) on the same rule when virt-node runs as a unit
/// with WatchdogSec=. A virt-node that hangs, or that is cut off from the majority, stops petting, and the device resets
/// the host: the others may then restart its VMs once its timeout (plus a margin) has passed since they downed it.
/// <para>
/// The device is opened the first time this node is healthy (opening starts it: a node still waiting to join would
/// otherwise be reset before it is a member) and kept open. A stop that is no loss (a healthy member shutting down on
/// request) disarms it with the magic 'V'; when this node was downed, or was not healthy when it stopped, the device
/// is left to run out, because the others may be counting on that reset.
/// </para>
/// </summary>
internal sealed class WatchdogPetter : ReceiveActor, IWithTimers
{
    private static readonly ServiceState SystemdPet = new("WATCHDOG=1");

    private readonly FencingOptions.WatchdogSettings _settings;
    private readonly ISystemdNotifier? _systemd;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly UniqueAddress _self;

    private readonly Dictionary<UniqueAddress, MemberStatus> _members = new();
    private readonly HashSet<UniqueAddress> _unreachable = new();

    /// <summary>This node leaves on request (it went Leaving, or a shutdown began that is not a downing): its own status does not count against it.</summary>
    private bool _departing;

    /// <summary>This node was downed (or removed without leaving): the others will count it fenced once its timeout has passed.</summary>
    private bool _downed;

    private MembershipHealth _health = new(false, "no cluster state yet");
    private WatchdogDevice? _device;
    private string? _deviceProblem;
    private bool _systemdFailing;
    private bool _deviceFailing;

    public WatchdogPetter(FencingOptions.WatchdogSettings settings, ISystemdNotifier? systemd)
    {
        _settings = settings;
        _systemd = systemd;
        _self = _cluster.SelfUniqueAddress;
        _deviceProblem = settings.Device.Length == 0 ? "no watchdog device configured (virt.fencing.watchdog.device)" : null;

        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            _members.Clear();
            _unreachable.Clear();
            foreach (var member in state.Members)
                _members[member.UniqueAddress] = member.Status;
            _unreachable.UnionWith(state.Unreachable.Select(m => m.UniqueAddress));
            if (_members.TryGetValue(_self, out var own))
                SelfChanged(own, null);
            Refresh();
        });
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            _members.Remove(removed.Member.UniqueAddress);
            _unreachable.Remove(removed.Member.UniqueAddress);
            if (removed.Member.UniqueAddress.Equals(_self))
                SelfChanged(MemberStatus.Removed, removed.PreviousStatus);
            Refresh();
        });
        Receive<ClusterEvent.IMemberEvent>(changed =>
        {
            _members[changed.Member.UniqueAddress] = changed.Member.Status;
            if (changed.Member.UniqueAddress.Equals(_self))
                SelfChanged(changed.Member.Status, null);
            Refresh();
        });
        Receive<ClusterEvent.UnreachableMember>(e =>
        {
            _unreachable.Add(e.Member.UniqueAddress);
            Refresh();
        });
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            _unreachable.Remove(e.Member.UniqueAddress);
            Refresh();
        });
        Receive<Pet>(_ => PetAll());
        Receive<ShutdownStarted>(_ =>
        {
            if (CoordinatedShutdown.Get(Context.System).ShutdownReason is CoordinatedShutdown.ClusterDowningReason)
                _downed = true;
            else
                _departing = true;
            Refresh();
            Sender.Tell(Done.Instance);
        });
        Receive<GetWatchdog>(_ => Sender.Tell(Status()));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="settings">virt.fencing.watchdog.</param>
    /// <param name="systemd">The notifier when virt-node runs under systemd with a watchdog (<see cref="SystemdFromEnvironment"/>), else null.</param>
    public static Props Props(FencingOptions.WatchdogSettings settings, ISystemdNotifier? systemd) =>
        Akka.Actor.Props.Create(() => new WatchdogPetter(settings, systemd));

    /// <summary>systemd's notifier when this process is a unit with WatchdogSec= (WATCHDOG_USEC set, for this process), else null.</summary>
    public static ISystemdNotifier? SystemdFromEnvironment()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WATCHDOG_USEC")))
            return null;
        // systemd sets WATCHDOG_PID for the main process; a child that inherited the environment is not watched.
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            return null;
        var notifier = new SystemdNotifier();
        return notifier.IsEnabled ? notifier : null;
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer("pet", Pet.Instance, _settings.Interval);

        // Told first thing in a shutdown (before this node leaves the cluster), so a shutdown on request is told from a loss.
        var self = Self;
        CoordinatedShutdown.Get(Context.System).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "watchdog-shutdown-started", async () =>
        {
            try
            {
                await self.Ask<Done>(ShutdownStarted.Instance, TimeSpan.FromSeconds(3));
            }
            catch (Exception)
            {
                // Stopped already: its PostStop decided.
            }

            return Done.Instance;
        });

        if (_systemd is not null && long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), out var usec)
            && _settings.Interval * 2 > TimeSpan.FromMicroseconds(usec))
            _log.Warning("systemd's WatchdogSec= ({0}) is less than twice virt.fencing.watchdog.interval ({1}): one late pet makes systemd restart virt-node",
                TimeSpan.FromMicroseconds(usec), _settings.Interval);
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        if (_device is null)
            return;
        var device = _device;
        _device = null;
        try
        {
            if (!_downed && _health.Healthy)
            {
                device.Disarm();
                _log.Info("Watchdog {0} disarmed: this node stopped as a healthy member", device.Path);
            }
            else
            {
                device.Abandon();
                _log.Warning("Watchdog {0} left running: this node stopped {1}; the host resets within {2}s",
                    device.Path, _downed ? "downed" : $"while not a healthy member ({_health.Reason})", device.Timeout.TotalSeconds);
            }
        }
        catch (IOException e)
        {
            _log.Error("Watchdog {0}: {1}", device.Path, e.Message);
        }
    }

    private void SelfChanged(MemberStatus status, MemberStatus? previous)
    {
        switch (status)
        {
            case MemberStatus.Leaving or MemberStatus.Exiting:
                _departing = true;
                break;
            case MemberStatus.Down:
            case MemberStatus.Removed when previous is not (MemberStatus.Leaving or MemberStatus.Exiting):
                _downed = true;
                break;
        }
    }

    private void Refresh()
    {
        var health = MembershipHealth.Of(_members, _unreachable, _self, departing: _departing && !_downed);
        var was = _health;
        _health = health;
        if (health.Healthy == was.Healthy)
            return;
        if (health.Healthy)
        {
            _log.Info("Watchdog petting: this node is a healthy member ({0})", health.Reason);
            PetAll();
        }
        else
        {
            _log.Warning("Watchdog no longer petted: {0}{1}", health.Reason,
                _device is null ? "" : $"; {_device.Path} resets the host in {_device.Timeout.TotalSeconds:0}s unless this node is healthy again");
        }
    }

    private void PetAll()
    {
        if (!_health.Healthy)
            return;
        if (_device is null && _deviceProblem is null)
            OpenDevice();
        if (_device is not null)
            PetDevice(_device);
        if (_systemd is not null)
            PetSystemd(_systemd);
    }

    private void OpenDevice()
    {
        try
        {
            _device = WatchdogDevice.Open(_settings.Device, _settings.Timeout);
            if (_device.Note is not null)
                _log.Warning("Watchdog {0}: {1}", _device.Path, _device.Note);
            _log.Info("Watchdog {0} armed: it resets the host unless petted within {1}s", _device.Path, _device.Timeout.TotalSeconds);
            Context.System.EventStream.Publish(Status()); // the node agent tells the fencer at once: a host that dies a moment later is still fenceable by it
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _deviceProblem = $"cannot open watchdog {_settings.Device}: {e.Message.TrimEnd('.')}";
            _log.Error("{0}. This host is not protected by a watchdog: the watchdog fence level cannot confirm it. " +
                       "Load a watchdog driver (modprobe softdog, or the board's), check that nothing else holds the device, and restart virt-node", _deviceProblem);
        }
    }

    private void PetDevice(WatchdogDevice device)
    {
        try
        {
            device.Pet();
            if (_deviceFailing)
                _log.Info("Watchdog {0} petted again", device.Path);
            _deviceFailing = false;
        }
        catch (IOException e)
        {
            if (!_deviceFailing)
                _log.Error("Watchdog {0} cannot be petted: {1}", device.Path, e.Message);
            _deviceFailing = true;
        }
    }

    private void PetSystemd(ISystemdNotifier systemd)
    {
        try
        {
            systemd.Notify(SystemdPet);
            if (_systemdFailing)
                _log.Info("systemd notified again");
            _systemdFailing = false;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            if (!_systemdFailing)
                _log.Error("Cannot notify systemd's watchdog (NOTIFY_SOCKET): {0}", e.Message);
            _systemdFailing = true;
        }
    }

    private WatchdogStatus Status()
    {
        var armed = _device is not null;
        var petting = _health.Healthy && (armed || _systemd is not null);
        var reason = _deviceProblem is null ? _health.Reason : $"{_deviceProblem}; {_health.Reason}";
        return new WatchdogStatus(armed, _device?.Timeout, petting, reason);
    }

    private sealed class Pet
    {
        public static readonly Pet Instance = new();
    }

    private sealed class ShutdownStarted
    {
        public static readonly ShutdownStarted Instance = new();
    }
}
