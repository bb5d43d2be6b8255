using System.Text.Json;
using Virt.Node.Rbd;
using Virt.Tests.Support;

namespace Virt.Tests.Rbd;

/// <summary>
/// The seed's emergency case on a real Ceph: an image locked by a client that is then blocklisted. Its writes fail
/// (-108), another client breaks the lock and takes the image over, and what is on the image afterwards (read by a
/// third, fresh client) is the new holder's data, never the fenced client's.
/// </summary>
public sealed class FencingTests(RbdTestPool pool) : IClassFixture<RbdTestPool>
{
    private const long MiB = 1 << 20;

    private async Task<List<string>> CliBlocklist() =>
        JsonDocument.Parse(await pool.Ceph.Ceph("osd", "blocklist", "ls", "--format", "json") is var text && text.IndexOf("][", StringComparison.Ordinal) is var cut and > 0 ? text[..(cut + 1)] : text)
            .RootElement.EnumerateArray().Select(e => e.GetProperty("addr").GetString()!).ToList();

    private async Task<List<string>> CliLockers(string image) =>
        JsonDocument.Parse(await pool.Ceph.Rbd("lock", "ls", $"{pool.Name}/{image}", "--format", "json")).RootElement
            .EnumerateArray().Select(l => l.GetProperty("locker").GetString()!).ToList();

    private static byte[] Bytes(byte value, int count = 4096) => Enumerable.Repeat(value, count).ToArray();

    private byte[] ReadFresh(string image, long offset, int count)
    {
        var (client, p) = pool.NewClient();
        using (client)
        using (p)
        using (var reader = p.OpenImage(image, readOnly: true))
        {
            var data = new byte[count];
            reader.Read(offset, data);
            return data;
        }
    }

    [Fact]
    public async Task A_blocklisted_lock_holder_cannot_write_and_its_lock_is_broken_by_another_client()
    {
        var name = pool.NewImageName("fence");
        pool.Pool.CreateImage(name, 8 * MiB, RbdFeatures.Layering);
        using var old = pool.Ceph.Connect();
        using var oldPool = old.OpenPool(pool.Name);
        using var oldImage = oldPool.OpenImage(name);
        oldImage.LockExclusive("vm-web-1");
        oldImage.Write(0, Bytes(0xAA));
        oldImage.Flush();
        var oldAddress = Assert.Single(old.Addresses());

        var (rescuer, rescuerPool) = pool.NewClient();
        using (rescuer)
        using (rescuerPool)
        using (var image = rescuerPool.OpenImage(name))
        {
            // The holder is alive: the lock is refused, naming it.
            var refused = Assert.Throws<RbdImageLockedException>(() => image.LockExclusive("vm-web-1"));
            Assert.Contains($"is locked by {old.ClientName} at {oldAddress}", refused.Message);

            // Fence it: from now on the OSDs refuse its operations.
            rescuer.Blocklist(oldAddress);
            Assert.Contains(oldAddress, await CliBlocklist());
            var fenced = await Eventually.Until(() => Task.FromResult(TryWrite(oldImage, Bytes(0xBB))), e => e is not null, "the fenced client's write fails");
            var blocked = Assert.IsType<RbdBlocklistedException>(fenced);
            Assert.Equal(108, blocked.Errno);
            Assert.Contains($"write 4096 bytes at 0 of image {pool.Name}/{name}: this client is blocklisted by the Ceph cluster (fenced) (errno 108)", blocked.Message);
            Assert.Throws<RbdBlocklistedException>(() => oldImage.Write(MiB, Bytes(0xBB))); // and every one after

            // The lock is still the dead client's until someone breaks it.
            Assert.Equal([old.ClientName], await CliLockers(name));
            var holder = Assert.Single(image.Lockers().Holders);
            image.BreakLock(holder.Client, holder.Cookie);
            Assert.Empty(await CliLockers(name));

            image.LockExclusive("vm-web-1");
            Assert.Equal([rescuer.ClientName], await CliLockers(name));
            image.Write(MiB, Bytes(0xCC));
            image.Flush();
        }

        Assert.Equal(Bytes(0xAA), ReadFresh(name, 0, 4096)); // the fenced write never landed
        Assert.Equal(Bytes(0xCC), ReadFresh(name, MiB, 4096)); // the new holder's did

        pool.Admin.Unblocklist(oldAddress);
        Assert.DoesNotContain(oldAddress, await CliBlocklist());
    }

    [Fact]
    public async Task A_dead_QEMU_like_writer_is_fenced_and_its_managed_lock_taken_over()
    {
        var name = pool.NewImageName("fence-managed");
        pool.Pool.CreateImage(name, 8 * MiB); // default features: the exclusive-lock feature, as a VM disk has
        using var old = pool.Ceph.Connect();
        using var oldPool = old.OpenPool(pool.Name);
        using var oldImage = oldPool.OpenImage(name);
        oldImage.Write(0, Bytes(0xAA)); // takes the managed lock
        oldImage.Flush();
        var oldAddress = old.Addresses()[0];

        var (rescuer, rescuerPool) = pool.NewClient();
        using (rescuer)
        using (rescuerPool)
        using (var image = rescuerPool.OpenImage(name))
        {
            var holder = Assert.Single(image.Lockers().Holders);
            Assert.Equal(old.ClientName, holder.Client);
            rescuer.Blocklist(oldAddress); // first the fence, then the lock: a live writer would take the lock back on its next write
            image.BreakLock(holder.Client, holder.Cookie);
            image.Write(MiB, Bytes(0xCC)); // takes the lock for itself
            image.Flush();
            Assert.Equal([rescuer.ClientName], await CliLockers(name));
        }

        Assert.IsType<RbdBlocklistedException>(TryWrite(oldImage, Bytes(0xBB)));
        Assert.Equal(Bytes(0xAA), ReadFresh(name, 0, 4096));
        Assert.Equal(Bytes(0xCC), ReadFresh(name, MiB, 4096));
        pool.Admin.Unblocklist(oldAddress);
    }

    [Fact]
    public async Task Breaking_a_lock_blocklists_its_holder_by_default()
    {
        var name = pool.NewImageName("break");
        pool.Pool.CreateImage(name, 4 * MiB, RbdFeatures.Layering);
        using var old = pool.Ceph.Connect();
        using var oldPool = old.OpenPool(pool.Name);
        using var oldImage = oldPool.OpenImage(name);
        oldImage.LockExclusive("c");
        var oldAddress = old.Addresses()[0];
        Assert.DoesNotContain(oldAddress, await CliBlocklist());

        using (var image = pool.Pool.OpenImage(name))
            image.BreakLock(old.ClientName, "c");

        Assert.Contains(oldAddress, await CliBlocklist());
        Assert.Empty(await CliLockers(name));
        Assert.IsType<RbdBlocklistedException>(TryWrite(oldImage, Bytes(1)));
        pool.Admin.Unblocklist(oldAddress);
    }

    [Fact]
    public async Task With_blocklisting_on_break_turned_off_the_holder_is_not_fenced_and_can_still_write()
    {
        var name = pool.NewImageName("break-soft");
        pool.Pool.CreateImage(name, 4 * MiB, RbdFeatures.Layering);
        using var old = pool.Ceph.Connect();
        using var oldPool = old.OpenPool(pool.Name);
        using var oldImage = oldPool.OpenImage(name);
        oldImage.LockExclusive("c");

        using (var breaker = RadosCluster.Connect(pool.Ceph.AdminOptions with { Settings = new Dictionary<string, string> { ["rbd_blocklist_on_break_lock"] = "false" } }))
        using (var p = breaker.OpenPool(pool.Name))
        using (var image = p.OpenImage(name))
            image.BreakLock(old.ClientName, "c");

        Assert.Empty(await CliLockers(name));
        Assert.DoesNotContain(old.Addresses()[0], await CliBlocklist());
        oldImage.Write(0, Bytes(7)); // an advisory lock never stopped anyone: only the blocklist does
        oldImage.Flush();
        Assert.Equal(Bytes(7), ReadFresh(name, 0, 4096));
    }

    [Fact]
    public void Breaking_a_lock_that_is_gone_says_to_read_the_lockers_again()
    {
        var name = pool.NewImageName("gone");
        pool.Pool.CreateImage(name, 4 * MiB, RbdFeatures.Layering);
        using var image = pool.Pool.OpenImage(name);
        var error = Assert.Throws<RbdNotFoundException>(() => image.BreakLock("client.999999", "c"));
        Assert.Contains($"break the lock of client.999999 (cookie 'c') on image {pool.Name}/{name}", error.Message);
        Assert.Contains("read the lockers again", error.Message);
    }

    private static RbdException? TryWrite(RbdImage image, byte[] data)
    {
        try
        {
            image.Write(0, data);
            image.Flush();
            return null;
        }
        catch (RbdException e)
        {
            return e;
        }
    }
}
