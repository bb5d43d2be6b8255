using System.Text.Json;
using Virt.Node.Rbd;
using Virt.Tests.Support;

namespace Virt.Tests.Rbd;

/// <summary>
/// A pool of its own on the shared test Ceph for one test class, an admin client connected to it, and helpers that
/// read Ceph's state through the rbd and ceph CLIs: a second, independent reader of what the binding did.
/// </summary>
public sealed class RbdTestPool : IAsyncLifetime
{
    private static int _images;

    internal CephCluster Ceph { get; private set; } = null!;

    public string Name { get; private set; } = "";

    internal RadosCluster Admin { get; private set; } = null!;

    internal RbdPool Pool { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Ceph = await CephCluster.Shared;
        Name = await Ceph.CreatePool("t");
        Admin = Ceph.Connect();
        Pool = Admin.OpenPool(Name);
    }

    public Task DisposeAsync()
    {
        Pool?.Dispose();
        Admin?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A name no other test uses.</summary>
    public string NewImageName(string prefix) => $"{prefix}-{Interlocked.Increment(ref _images)}";

    /// <summary>Runs <c>rbd ... --format json</c> and parses its output.</summary>
    public async Task<JsonElement> RbdJson(params string[] args) =>
        JsonDocument.Parse(await Ceph.Rbd([.. args, "--format", "json"])).RootElement;

    /// <summary>A fresh client of its own, opened on this pool: what another host would see.</summary>
    internal (RadosCluster Client, RbdPool Pool) NewClient()
    {
        var client = Ceph.Connect();
        return (client, client.OpenPool(Name));
    }
}
