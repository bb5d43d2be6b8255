using System.Net.Sockets;

namespace Virt.Node.Readiness;

/// <summary>tcp: ready once <c>host:port</c> accepts a connection (which is closed at once).</summary>
internal sealed class TcpProbe(string endpoint) : IReadinessProbe
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(3);

    public async Task Run(Action<string> ready, CancellationToken cancel)
    {
        var colon = endpoint.LastIndexOf(':');
        var host = endpoint[..colon].Trim('[', ']');
        var port = int.Parse(endpoint[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        while (true)
        {
            using (var client = new TcpClient())
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                attempt.CancelAfter(AttemptTimeout); // a dropped SYN would otherwise wait for the kernel's long timeout
                try
                {
                    await client.ConnectAsync(host, port, attempt.Token);
                    ready($"tcp: {endpoint} accepted a connection");
                    return;
                }
                catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancel.IsCancellationRequested))
                {
                    // refused, unreachable, or no answer in time: try again
                }
            }

            await Task.Delay(Retry, cancel);
        }
    }
}
