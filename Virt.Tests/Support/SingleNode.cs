namespace Virt.Tests.Support;

/// <summary>One real virt-node process on its own simulated libvirt host and data directory, for a test class's lifetime per test.</summary>
public sealed class SingleNode(string? prefix = null) : IAsyncLifetime
{
    public TempDirectory Dir { get; } = prefix is null ? new() : new(prefix);

    public SimulatedHost Host { get; } = new();

    public VirtNodeProcess Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Node = new VirtNodeProcess(Dir.Path, Host.Uri);
        await Node.Start();
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        Host.Dispose();
        Dir.Dispose();
    }
}
