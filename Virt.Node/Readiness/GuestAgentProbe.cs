using Virt.Node.Libvirt;

namespace Virt.Node.Readiness;

/// <summary>
/// guest-agent: ready once qemu-guest-agent in the domain answers <c>guest-ping</c> through libvirt. Uses a libvirt
/// connection of its own, so a guest that does not answer never holds up the host's domain work.
/// </summary>
internal sealed class GuestAgentProbe(string uri, string domain) : IReadinessProbe
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);
    private const int PingTimeoutSeconds = 2;

    public async Task Run(Action<string> ready, CancellationToken cancel)
    {
        LibvirtConnection? connection = null;
        try
        {
            while (true)
            {
                try
                {
                    connection ??= await Task.Run(() => LibvirtConnection.Open(uri), cancel);
                    var c = connection;
                    await Task.Run(() => c.AgentCommand(domain, """{"execute":"guest-ping"}""", PingTimeoutSeconds), cancel);
                    ready("guest-agent: answered guest-ping");
                    return;
                }
                catch (LibvirtException ex)
                {
                    // the agent is not up yet ("not connected", "not responding"), or libvirt is away: try again
                    if (ex.IsConnectionLost)
                    {
                        connection?.Dispose();
                        connection = null;
                    }
                }

                await Task.Delay(Retry, cancel);
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }
}
