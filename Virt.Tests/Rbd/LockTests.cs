using System.Text.Json;
using Virt.Node.Rbd;

namespace Virt.Tests.Rbd;

/// <summary>
/// Advisory locks and the exclusive-lock feature's managed lock between real clients: who holds them is read back
/// from Ceph through the rbd CLI (<c>rbd lock ls</c>), and a refused lock names its holder.
/// </summary>
public sealed class LockTests(RbdTestPool pool) : IClassFixture<RbdTestPool>
{
    private const long MiB = 1 << 20;

    private async Task<List<(string Id, string Locker, string Address)>> CliLockers(string image)
    {
        var json = JsonDocument.Parse(await pool.Ceph.Rbd("lock", "ls", $"{pool.Name}/{image}", "--format", "json")).RootElement;
        return json.EnumerateArray().Select(l => (l.GetProperty("id").GetString()!, l.GetProperty("locker").GetString()!, l.GetProperty("address").GetString()!)).ToList();
    }

    private string PlainImage(string prefix)
    {
        var name = pool.NewImageName(prefix);
        pool.Pool.CreateImage(name, 4 * MiB, RbdFeatures.Layering); // no exclusive-lock: advisory locks only
        return name;
    }

    [Fact]
    public async Task An_exclusive_lock_is_held_in_Ceph_under_the_client_cookie_and_address()
    {
        var name = PlainImage("excl");
        var (a, pa) = pool.NewClient();
        using (a)
        using (pa)
        using (var image = pa.OpenImage(name))
        {
            Assert.False(image.Lockers().IsLocked);
            image.LockExclusive("vm-web-1");

            var address = Assert.Single(a.Addresses());
            Assert.Equal([("vm-web-1", a.ClientName, address)], await CliLockers(name));
            using var seen = pool.Pool.OpenImage(name);
            var lockers = seen.Lockers();
            Assert.True(lockers.Exclusive);
            Assert.Equal([new ImageLocker(a.ClientName, "vm-web-1", address)], lockers.Holders);

            image.Unlock("vm-web-1");
            Assert.Empty(await CliLockers(name));
            Assert.False(seen.Lockers().IsLocked);
        }
    }

    [Fact]
    public async Task A_lock_held_by_a_live_client_is_refused_to_another_naming_the_holder()
    {
        var name = PlainImage("held");
        var (a, pa) = pool.NewClient();
        var (b, pb) = pool.NewClient();
        using (a)
        using (pa)
        using (b)
        using (pb)
        using (var mine = pa.OpenImage(name))
        using (var theirs = pb.OpenImage(name))
        {
            mine.LockExclusive("vm-web-1");
            var address = a.Addresses()[0];

            var refused = Assert.Throws<RbdImageLockedException>(() => theirs.LockExclusive("vm-web-1"));
            Assert.Equal(CephErrno.EBUSY, refused.Errno);
            Assert.Equal($"{pool.Name}/{name}", refused.Image);
            Assert.Equal([new ImageLocker(a.ClientName, "vm-web-1", address)], refused.Lockers.Holders);
            Assert.StartsWith($"image {pool.Name}/{name} is locked by {a.ClientName} at {address} (cookie 'vm-web-1'): if that client is dead, fence it", refused.Message);

            Assert.Throws<RbdImageLockedException>(() => theirs.LockShared("other", "tag"));
            Assert.Equal([("vm-web-1", a.ClientName, address)], await CliLockers(name)); // still a's, nothing changed
        }
    }

    [Fact]
    public async Task Shared_locks_with_one_tag_are_held_together_and_exclude_the_rest()
    {
        var name = PlainImage("shared");
        var (a, pa) = pool.NewClient();
        var (b, pb) = pool.NewClient();
        using (a)
        using (pa)
        using (b)
        using (pb)
        using (var ia = pa.OpenImage(name))
        using (var ib = pb.OpenImage(name))
        using (var admin = pool.Pool.OpenImage(name))
        {
            ia.LockShared("a", "cluster-fs");
            ib.LockShared("b", "cluster-fs");
            Assert.Equal([a.ClientName, b.ClientName], (await CliLockers(name)).Select(l => l.Locker).Order());
            var lockers = admin.Lockers();
            Assert.False(lockers.Exclusive);
            Assert.Equal("cluster-fs", lockers.Tag);
            Assert.Equal(2, lockers.Holders.Count);

            var exclusive = Assert.Throws<RbdImageLockedException>(() => admin.LockExclusive("admin"));
            Assert.Contains(a.ClientName, exclusive.Message);
            Assert.Contains(b.ClientName, exclusive.Message);
            Assert.Throws<RbdImageLockedException>(() => admin.LockShared("admin", "another-tag"));
            Assert.Equal(2, (await CliLockers(name)).Count);
        }
    }

    [Fact]
    public void Unlocking_a_lock_this_client_does_not_hold_says_so()
    {
        var name = PlainImage("nolock");
        using var image = pool.Pool.OpenImage(name);
        var error = Assert.Throws<RbdNotFoundException>(() => image.Unlock("never-taken"));
        Assert.Contains($"unlock image {pool.Name}/{name}", error.Message);
        Assert.Contains("this client holds no lock with cookie 'never-taken'", error.Message);
    }

    [Fact]
    public void The_same_client_locking_twice_is_told_it_already_holds_the_lock()
    {
        var name = PlainImage("twice");
        using var image = pool.Pool.OpenImage(name);
        image.LockExclusive("c");
        var error = Assert.ThrowsAny<RbdException>(() => image.LockExclusive("c"));
        Assert.Equal(CephErrno.EEXIST, error.Errno);
        Assert.Contains("this client already holds that lock (cookie 'c')", error.Message);
    }

    [Fact]
    public async Task An_advisory_lock_on_an_exclusive_lock_image_is_refused_because_writes_would_hang()
    {
        var name = pool.NewImageName("featured");
        pool.Pool.CreateImage(name, 4 * MiB, RbdFeatures.Layering | RbdFeatures.ExclusiveLock);
        using var image = pool.Pool.OpenImage(name);
        var error = Assert.ThrowsAny<RbdException>(() => image.LockExclusive("vm"));
        Assert.Contains("the image has the exclusive-lock feature", error.Message);
        Assert.Contains("Take the exclusive lock (as QEMU does) instead", error.Message);
        Assert.Empty(await CliLockers(name));
    }

    [Fact]
    public async Task The_managed_lock_a_writer_takes_is_reported_with_its_holder()
    {
        var name = pool.NewImageName("qemu-like");
        pool.Pool.CreateImage(name, 4 * MiB); // default features, as for a VM disk
        var (a, pa) = pool.NewClient();
        using (a)
        using (pa)
        using (var writer = pa.OpenImage(name))
        using (var admin = pool.Pool.OpenImage(name))
        {
            Assert.False(admin.Lockers().IsLocked);
            writer.Write(0, new byte[512]); // the first write takes the exclusive lock, as in QEMU
            writer.Flush();

            var lockers = admin.Lockers();
            var holder = Assert.Single(lockers.Holders);
            Assert.Equal(a.ClientName, holder.Client);
            Assert.Equal(a.Addresses()[0], holder.Address);
            Assert.StartsWith("auto ", holder.Cookie);
            Assert.Equal("internal", lockers.Tag);
            Assert.Equal([(holder.Cookie, a.ClientName, holder.Address)], await CliLockers(name));
        }
    }

    /// <summary>
    /// Why the managed lock is no guard against a second VM: librbd hands it over to whichever client writes next,
    /// unless the holder took it explicitly (see the next test). The agent must check the lockers before a start.
    /// </summary>
    [Fact]
    public void A_managed_lock_taken_by_writing_is_handed_over_to_the_next_writer()
    {
        var name = pool.NewImageName("handover");
        pool.Pool.CreateImage(name, 4 * MiB);
        var (a, pa) = pool.NewClient();
        var (b, pb) = pool.NewClient();
        using (a)
        using (pa)
        using (b)
        using (pb)
        using (var first = pa.OpenImage(name))
        using (var second = pb.OpenImage(name))
        using (var admin = pool.Pool.OpenImage(name))
        {
            first.Write(0, new byte[512]);
            first.Flush();
            Assert.Equal(a.ClientName, Assert.Single(admin.Lockers().Holders).Client);
            second.Write(0, new byte[512]);
            second.Flush();
            Assert.Equal(b.ClientName, Assert.Single(admin.Lockers().Holders).Client);
        }
    }

    [Fact]
    public void Taking_the_managed_lock_held_by_another_live_client_is_refused_naming_it()
    {
        var name = pool.NewImageName("managed");
        pool.Pool.CreateImage(name, 4 * MiB);
        var (a, pa) = pool.NewClient();
        using (a)
        using (pa)
        using (var holder = pa.OpenImage(name))
        using (var other = pool.Pool.OpenImage(name))
        {
            holder.AcquireExclusiveLock();
            var refused = Assert.Throws<RbdImageLockedException>(() => other.AcquireExclusiveLock());
            Assert.Contains($"is locked by {a.ClientName} at {a.Addresses()[0]}", refused.Message);

            holder.ReleaseExclusiveLock();
            Assert.False(other.Lockers().IsLocked);
            other.AcquireExclusiveLock();
            Assert.Equal(pool.Admin.ClientName, Assert.Single(holder.Lockers().Holders).Client);
        }
    }
}
