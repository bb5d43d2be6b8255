using System.Net.Sockets;
using System.Text;

namespace Virt.Node.Readiness;

/// <summary>
/// virtio-signal: connects to the UNIX socket QEMU listens on for the VM's startup_signal port, reads lines, and
/// answers every <c>ready ID</c> with <c>ack ID</c> for as long as the domain runs (a guest that reboots, or missed
/// the ack, sends it again). The guest's write waits until a host end is connected, so connecting late loses nothing.
/// </summary>
internal sealed class StartupSignalProbe(string socketPath) : IReadinessProbe
{
    /// <summary>Between connection attempts: the socket appears with the domain, and goes when QEMU ends.</summary>
    private static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(250);

    public async Task Run(Action<string> ready, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel);
                    await Converse(socket, ready, cancel);
                }
                catch (SocketException)
                {
                    // not there yet (ENOENT), not listening (ECONNREFUSED), or QEMU went away: try again
                }
            }

            await Task.Delay(Retry, cancel);
        }
    }

    /// <summary>Until the peer closes: acknowledges each ready line.</summary>
    private static async Task Converse(Socket socket, Action<string> ready, CancellationToken cancel)
    {
        var buffer = new byte[512];
        var line = new List<byte>(StartupSignalLine.MaxLength);
        var overlong = false;
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel);
            if (read == 0)
                return;
            for (var i = 0; i < read; i++)
            {
                var b = buffer[i];
                if (b != (byte)'\n')
                {
                    if (line.Count < StartupSignalLine.MaxLength)
                        line.Add(b);
                    else
                        overlong = true;
                    continue;
                }

                var text = Encoding.ASCII.GetString(line.ToArray());
                line.Clear();
                if (overlong)
                {
                    overlong = false;
                    continue;
                }

                if (StartupSignalLine.ReadyId(text) is { } id)
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes(StartupSignalLine.Ack(id)), SocketFlags.None, cancel);
                    ready($"virtio-signal: 'ready {id}' acknowledged");
                }
            }
        }
    }
}
