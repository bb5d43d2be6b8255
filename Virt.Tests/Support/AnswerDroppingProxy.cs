using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Virt.Tests.Support;

/// <summary>
/// A TCP proxy in front of a virt-node that loses the answer to the first request of a given method: it forwards the
/// request, and when the node's answer starts coming back it closes the client's connection instead (the request was
/// done, its answer lost: what a dropped link does). Everything else passes through.
/// </summary>
public sealed class AnswerDroppingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _upstream;
    private readonly string _method;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _dropped;

    public AnswerDroppingProxy(string upstream, string method = "POST")
    {
        _upstream = upstream;
        _method = method + " ";
        _listener.Start();
        _accepting = Accept();
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>How many answers were dropped (at most one).</summary>
    public int Dropped => _dropped;

    private async Task Accept()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = Relay(client);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task Relay(TcpClient client)
    {
        using var _ = client;
        using var upstream = new TcpClient();
        var colon = _upstream.LastIndexOf(':');
        await upstream.ConnectAsync(_upstream[..colon], int.Parse(_upstream[(colon + 1)..]));
        var dropping = false;
        var toNode = Pump(client.GetStream(), upstream.GetStream(), chunk =>
        {
            if (Volatile.Read(ref _dropped) == 0 && Encoding.ASCII.GetString(chunk).Contains(_method, StringComparison.Ordinal))
                dropping = true;
            return true;
        });
        var toClient = Pump(upstream.GetStream(), client.GetStream(), _ =>
        {
            if (!dropping || Interlocked.Exchange(ref _dropped, 1) != 0)
                return true;
            return false; // the answer to the request being dropped: close instead
        });
        await Task.WhenAny(toNode, toClient);
        client.Close();
        upstream.Close();
    }

    /// <summary>Copies until the end, or until <paramref name="pass"/> says a chunk must not pass.</summary>
    private static async Task Pump(NetworkStream from, NetworkStream to, Func<byte[], bool> pass)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer);
                if (n == 0 || !pass(buffer[..n]))
                    return;
                await to.WriteAsync(buffer.AsMemory(0, n));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
