using System.Text.Json;
using Virt.Node.Rbd;

namespace Virt.Tests.Rbd;

/// <summary>Snapshots create, list, protect, unprotect, remove and rollback, checked with <c>rbd snap ls</c> and by reading data back.</summary>
public sealed class SnapshotTests(RbdTestPool pool) : IClassFixture<RbdTestPool>
{
    private const long MiB = 1 << 20;

    private async Task<List<(ulong Id, string Name, long Size, bool Protected)>> CliSnapshots(string image) =>
        JsonDocument.Parse(await pool.Ceph.Rbd("snap", "ls", $"{pool.Name}/{image}", "--format", "json")).RootElement.EnumerateArray()
            .Select(s => (s.GetProperty("id").GetUInt64(), s.GetProperty("name").GetString()!, s.GetProperty("size").GetInt64(), s.GetProperty("protected").GetString() == "true"))
            .ToList();

    private static byte[] Bytes(byte value) => Enumerable.Repeat(value, 4096).ToArray();

    private string NewImage(string prefix, long size = 8 * MiB)
    {
        var name = pool.NewImageName(prefix);
        pool.Pool.CreateImage(name, size, RbdFeatures.Layering);
        return name;
    }

    [Fact]
    public async Task Snapshots_are_listed_in_order_with_the_size_at_their_time_as_Ceph_lists_them()
    {
        var name = NewImage("list");
        using var image = pool.Pool.OpenImage(name);
        Assert.Empty(image.Snapshots());
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        image.CreateSnapshot("one");
        image.Resize(16 * MiB);
        image.CreateSnapshot("two");
        image.Resize(24 * MiB);
        image.CreateSnapshot("three");

        var snaps = image.Snapshots();
        Assert.Equal(["one", "two", "three"], snaps.Select(s => s.Name));
        Assert.Equal([8 * MiB, 16 * MiB, 24 * MiB], snaps.Select(s => s.SizeBytes));
        Assert.All(snaps, s => Assert.InRange(s.CreatedAt, before, DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Equal((await CliSnapshots(name)).Select(s => (s.Id, s.Name, s.Size)), snaps.Select(s => (s.Id, s.Name, s.SizeBytes)));
    }

    [Fact]
    public async Task A_protected_snapshot_cannot_be_removed_until_unprotected()
    {
        var name = NewImage("protect");
        using var image = pool.Pool.OpenImage(name);
        image.CreateSnapshot("golden");
        image.ProtectSnapshot("golden");
        Assert.True(Assert.Single(await CliSnapshots(name)).Protected);
        Assert.True(Assert.Single(image.Snapshots()).Protected);

        var refused = Assert.ThrowsAny<RbdException>(() => image.RemoveSnapshot("golden"));
        Assert.Equal($"remove snapshot {pool.Name}/{name}@golden: busy (errno 16); it is protected: unprotect it first", refused.Message);
        Assert.Single(await CliSnapshots(name));

        image.UnprotectSnapshot("golden");
        Assert.False(Assert.Single(await CliSnapshots(name)).Protected);
        image.RemoveSnapshot("golden");
        Assert.Empty(await CliSnapshots(name));
    }

    [Fact]
    public void Rollback_puts_back_the_content_of_the_snapshot()
    {
        var name = NewImage("rollback");
        using (var image = pool.Pool.OpenImage(name))
        {
            image.Write(0, Bytes(1));
            image.CreateSnapshot("before");
            image.Write(0, Bytes(2));
            image.Write(4 * MiB, Bytes(3)); // written after the snapshot: must go
            image.RollbackToSnapshot("before");
        }

        var (client, p) = pool.NewClient();
        using (client)
        using (p)
        using (var fresh = p.OpenImage(name, readOnly: true))
        {
            var data = new byte[4096];
            fresh.Read(0, data);
            Assert.Equal(Bytes(1), data);
            fresh.Read(4 * MiB, data);
            Assert.Equal(new byte[4096], data);
        }
    }

    [Fact]
    public void A_snapshot_opened_read_only_keeps_its_content_while_the_image_changes()
    {
        var name = NewImage("readsnap");
        using var image = pool.Pool.OpenImage(name);
        image.Write(0, Bytes(5));
        image.CreateSnapshot("s");
        image.Write(0, Bytes(6));
        using var snap = pool.Pool.OpenImage(name, snapshot: "s");
        Assert.Equal("s", snap.Snapshot);
        var data = new byte[4096];
        snap.Read(0, data);
        Assert.Equal(Bytes(5), data);
        image.Read(0, data);
        Assert.Equal(Bytes(6), data);
    }

    [Fact]
    public async Task Snapshot_errors_name_the_snapshot_and_say_what_to_do()
    {
        var name = NewImage("errors");
        using var image = pool.Pool.OpenImage(name);
        image.CreateSnapshot("s");

        var duplicate = Assert.ThrowsAny<RbdException>(() => image.CreateSnapshot("s"));
        Assert.Equal($"create snapshot {pool.Name}/{name}@s: already exists (errno 17); choose another name, or remove that snapshot first", duplicate.Message);
        var missing = Assert.Throws<RbdNotFoundException>(() => image.RollbackToSnapshot("nope"));
        Assert.Contains($"image {pool.Name}/{name} has no snapshot 'nope'", missing.Message);
        var openMissing = Assert.Throws<RbdNotFoundException>(() => pool.Pool.OpenImage(name, snapshot: "nope"));
        Assert.Contains($"open image {pool.Name}/{name}@nope", openMissing.Message);
        Assert.Equal(["s"], (await CliSnapshots(name)).Select(s => s.Name));
    }

    [Fact]
    public void Protecting_needs_the_layering_feature_and_says_so()
    {
        var name = pool.NewImageName("nolayering");
        pool.Pool.CreateImage(name, MiB, RbdFeatures.None);
        using var image = pool.Pool.OpenImage(name);
        image.CreateSnapshot("s");
        var error = Assert.ThrowsAny<RbdException>(() => image.ProtectSnapshot("s"));
        Assert.Contains("protection needs the layering feature", error.Message);
        Assert.False(Assert.Single(image.Snapshots()).Protected);
    }
}
