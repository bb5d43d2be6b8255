using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Microsoft.Extensions.Hosting.Systemd;
using Virt.Actors.Fencing;
using Virt.Actors.Persistence;
using Virt.Node.Agent;
using Virt.Node.Fence;
using Virt.Tests.Support;

namespace Virt.Tests.Fence;

/// <summary>
/// The watchdog petter on a real one-node cluster that joins itself. The device is a FIFO the test reads (every pet
/// is one byte; 'V' disarms), systemd a real Unix datagram socket the test binds. After a change, "nothing more
/// arrives" is checked behind a marker the test writes itself once the petter has said it stopped: what the petter
/// wrote before that is ahead of the marker, so only what it wrote after counts.
/// </summary>
public sealed partial class WatchdogPetterTests
{
    private const byte PetByte = 0;
    private const byte MagicClose = (byte)'V';
    private const byte Marker = (byte)'M';
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private static Config ClusterConfig(bool shutdownWhenDown) => ConfigurationFactory.ParseString($"""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp {"{"} hostname = 127.0.0.1, port = 0 {"}"}
        akka.cluster.run-coordinated-shutdown-when-down = {(shutdownWhenDown ? "on" : "off")}
        akka.coordinated-shutdown.run-by-clr-shutdown = off
        """);

    private static FencingOptions.WatchdogSettings Settings(string device) =>
        new() { Device = device, Timeout = TimeSpan.FromSeconds(10), Interval = Interval };

    private static async Task<WatchdogStatus> AwaitStatus(IActorRef petter, Func<WatchdogStatus, bool> done, string what) =>
        await Eventually.Until(() => petter.Ask<WatchdogStatus>(new GetWatchdog(), TimeSpan.FromSeconds(5)), done, what, Deadline.TotalSeconds);

    private static Akka.Cluster.Cluster JoinItself(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        cluster.Join(cluster.SelfAddress);
        return cluster;
    }

    [Fact]
    public async Task Pets_arrive_while_the_node_is_up_and_stop_once_it_is_down()
    {
        using var dir = new TempDirectory("watchdog");
        using var device = new FifoReader(dir.File("watchdog"));
        using var kit = new Akka.TestKit.Xunit2.TestKit(ClusterConfig(shutdownWhenDown: false), "watchdog");
        var petter = kit.Sys.ActorOf(WatchdogPetter.Props(Settings(device.Path), systemd: null), "watchdog");

        // Not a member yet: the device is not even opened (opening it would start it).
        var before = await petter.Ask<WatchdogStatus>(new GetWatchdog(), TimeSpan.FromSeconds(5));
        Assert.False(before.Armed);
        Assert.False(before.Petting);
        Assert.Null(before.Timeout);

        var cluster = JoinItself(kit.Sys);
        for (var i = 0; i < 3; i++)
            Assert.Equal(PetByte, await device.Next(Deadline));
        var up = await AwaitStatus(petter, s => s.Petting, "the petter pets");
        Assert.Equal(new WatchdogStatus(true, TimeSpan.FromSeconds(10), true, "1 of 1 members reachable"), up);

        cluster.Down(cluster.SelfAddress);
        await Eventually.Until(() => cluster.SelfMember.Status is Akka.Cluster.MemberStatus.Down or Akka.Cluster.MemberStatus.Removed, "this member is down");
        var down = await AwaitStatus(petter, s => !s.Petting, "the petter stops");
        Assert.True(down.Armed); // left to run out, never disarmed
        Assert.Contains(down.Reason, new[] { "this member is down", "this node is not a member (not joined yet, or removed)" });

        device.WriteMarker();
        await device.SkipPetsUntilMarker(Deadline);
        Assert.Equal(FifoReader.Nothing, await device.Next(Interval * 3));

        // A downed node's watchdog is not disarmed when its actor system then ends either.
        await kit.Sys.Terminate();
        device.CloseMarkerWriter();
        Assert.Equal(FifoReader.End, await device.Next(Deadline));
    }

    [Fact]
    public async Task A_downing_that_ends_the_actor_system_leaves_the_watchdog_running()
    {
        using var dir = new TempDirectory("watchdog");
        using var device = new FifoReader(dir.File("watchdog"));
        using var kit = new Akka.TestKit.Xunit2.TestKit(ClusterConfig(shutdownWhenDown: true), "watchdog");
        kit.Sys.ActorOf(WatchdogPetter.Props(Settings(device.Path), systemd: null), "watchdog");
        var cluster = JoinItself(kit.Sys);
        Assert.Equal(PetByte, await device.Next(Deadline));

        cluster.Down(cluster.SelfAddress);
        await kit.Sys.WhenTerminated.WaitAsync(Deadline);
        Assert.Equal(Akka.Actor.CoordinatedShutdown.ClusterDowningReason.Instance, Akka.Actor.CoordinatedShutdown.Get(kit.Sys).ShutdownReason);
        await device.SkipPetsUntilEnd(Deadline); // closed with no 'V'
    }

    [Fact]
    public async Task An_orderly_stop_of_a_healthy_member_disarms_the_watchdog()
    {
        using var dir = new TempDirectory("watchdog");
        using var device = new FifoReader(dir.File("watchdog"));
        using var kit = new Akka.TestKit.Xunit2.TestKit(ClusterConfig(shutdownWhenDown: true), "watchdog");
        kit.Sys.ActorOf(WatchdogPetter.Props(Settings(device.Path), systemd: null), "watchdog");
        JoinItself(kit.Sys);
        Assert.Equal(PetByte, await device.Next(Deadline));

        // What systemctl stop does (SIGTERM: the CLR exits): the node leaves the cluster, then the actor system ends.
        await Akka.Actor.CoordinatedShutdown.Get(kit.Sys).Run(Akka.Actor.CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(Deadline);

        int last;
        while ((last = await device.Next(Deadline)) == PetByte)
        {
        }

        Assert.Equal(MagicClose, last);
        Assert.Equal(FifoReader.End, await device.Next(Deadline));
    }

    [Fact]
    public async Task A_device_that_cannot_be_opened_is_reported_not_armed()
    {
        using var dir = new TempDirectory("watchdog");
        var missing = dir.File("no-such-watchdog");
        using var kit = new Akka.TestKit.Xunit2.TestKit(ClusterConfig(shutdownWhenDown: false), "watchdog");
        var petter = kit.Sys.ActorOf(WatchdogPetter.Props(Settings(missing), systemd: null), "watchdog");
        JoinItself(kit.Sys);

        var status = await AwaitStatus(petter, s => s.Reason.Contains("members reachable"), "the node is up");
        Assert.False(status.Armed);
        Assert.False(status.Petting); // nothing to pet
        Assert.Null(status.Timeout);
        Assert.StartsWith($"cannot open watchdog {missing}: ", status.Reason);
        Assert.False(File.Exists(missing)); // opened, never created
    }

    [Fact]
    public async Task Systemd_is_notified_while_the_node_is_healthy_and_not_once_it_is_down()
    {
        using var dir = new TempDirectory("watchdog");
        using var systemd = new NotifySocket(dir.File("notify"));
        using var kit = new Akka.TestKit.Xunit2.TestKit(ClusterConfig(shutdownWhenDown: false), "watchdog");
        var petter = kit.Sys.ActorOf(WatchdogPetter.Props(Settings(""), systemd.Notifier()), "watchdog");
        var cluster = JoinItself(kit.Sys);

        for (var i = 0; i < 3; i++)
            Assert.Equal("WATCHDOG=1", await systemd.Next(Deadline));
        var up = await AwaitStatus(petter, s => s.Petting, "the petter pets");
        Assert.False(up.Armed);
        Assert.Equal("no watchdog device configured (virt.fencing.watchdog.device); 1 of 1 members reachable", up.Reason);

        cluster.Down(cluster.SelfAddress);
        await Eventually.Until(() => cluster.SelfMember.Status is Akka.Cluster.MemberStatus.Down or Akka.Cluster.MemberStatus.Removed, "this member is down");
        await AwaitStatus(petter, s => !s.Petting, "the petter stops");

        systemd.SendMarker();
        string? datagram;
        while ((datagram = await systemd.Next(Deadline)) == "WATCHDOG=1")
        {
        }

        Assert.Equal("MARK", datagram);
        Assert.Null(await systemd.Next(Interval * 3));
    }

    [Fact]
    public void The_watchdog_protocol_round_trips_through_virts_serializer()
    {
        foreach (object message in new object[] { new GetWatchdog(), new WatchdogStatus(true, TimeSpan.FromSeconds(10), true, "1 of 1 members reachable"), new WatchdogStatus(false, null, false, "x") })
        {
            var (manifest, payload) = VirtManifests.Codec.Serialize(message);
            Assert.Equal(message, VirtManifests.Codec.Deserialize(manifest, payload));
            Assert.StartsWith("fencing.", manifest);
        }

        Assert.Contains("\"timeoutMs\":10000", Encoding.UTF8.GetString(VirtManifests.Codec.Serialize(new WatchdogStatus(true, TimeSpan.FromSeconds(10), true, "")).Payload));
    }

    /// <summary>A FIFO standing in for /dev/watchdog: a thread reads it, byte by byte, until every writer closed it.</summary>
    private sealed partial class FifoReader : IDisposable
    {
        public const int End = -1;
        public const int Nothing = -2;

        private readonly Channel<int> _bytes = Channel.CreateUnbounded<int>();
        private FileStream? _markerWriter;

        public FifoReader(string path)
        {
            Path = path;
            if (mkfifo(path, 0b110_000_000) != 0)
                throw new IOException($"mkfifo {path}: {Marshal.GetLastPInvokeErrorMessage()}");
            // Opening a FIFO to read waits for a writer: on a thread of its own. Background: a test that fails before the
            // petter opened it must not keep the test run alive.
            new Thread(Read) { IsBackground = true, Name = "fifo-reader" }.Start();
        }

        public string Path { get; }

        /// <summary>The next byte, <see cref="End"/> when every writer closed it, or <see cref="Nothing"/> when none came within <paramref name="within"/>.</summary>
        public async Task<int> Next(TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            try
            {
                return await _bytes.Reader.WaitToReadAsync(timeout.Token) && _bytes.Reader.TryRead(out var b) ? b : End;
            }
            catch (OperationCanceledException)
            {
                return Nothing;
            }
        }

        /// <summary>Writes a marker through a writer of the test's own (it stays open until <see cref="CloseMarkerWriter"/>).</summary>
        public void WriteMarker()
        {
            _markerWriter ??= new FileStream(Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
            _markerWriter.Write([Marker]);
        }

        public void CloseMarkerWriter() => _markerWriter?.Dispose();

        public async Task SkipPetsUntilMarker(TimeSpan within)
        {
            int b;
            while ((b = await Next(within)) == PetByte)
            {
            }

            Assert.Equal(Marker, b);
        }

        public async Task SkipPetsUntilEnd(TimeSpan within)
        {
            int b;
            while ((b = await Next(within)) == PetByte)
            {
            }

            Assert.Equal(End, b);
        }

        public void Dispose() => CloseMarkerWriter();

        private void Read()
        {
            try
            {
                using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
                int b;
                while ((b = stream.ReadByte()) >= 0)
                    _bytes.Writer.TryWrite(b);
            }
            finally
            {
                _bytes.Writer.TryComplete();
            }
        }

        [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int mkfifo(string path, uint mode);
    }

    /// <summary>A Unix datagram socket standing in for systemd's notify socket.</summary>
    private sealed class NotifySocket : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        private readonly string _path;

        public NotifySocket(string path)
        {
            _path = path;
            _socket.Bind(new UnixDomainSocketEndPoint(path));
        }

        /// <summary>
        /// systemd's own notifier, pointed here: it reads NOTIFY_SOCKET once, when constructed, so the variable is set
        /// only for that moment.
        /// </summary>
        public ISystemdNotifier Notifier()
        {
            var previous = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
            Environment.SetEnvironmentVariable("NOTIFY_SOCKET", _path);
            try
            {
                var notifier = new SystemdNotifier();
                Assert.True(notifier.IsEnabled);
                return notifier;
            }
            finally
            {
                Environment.SetEnvironmentVariable("NOTIFY_SOCKET", previous);
            }
        }

        public void SendMarker()
        {
            using var sender = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            sender.SendTo("MARK"u8, new UnixDomainSocketEndPoint(_path));
        }

        /// <summary>The next datagram's text, or null when none came within <paramref name="within"/>.</summary>
        public async Task<string?> Next(TimeSpan within)
        {
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(within);
            try
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                return Encoding.UTF8.GetString(buffer, 0, n);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }

        public void Dispose() => _socket.Dispose();
    }
}
