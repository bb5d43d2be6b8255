using System.Text.Json;
using Virt.Node.Rbd;
using Virt.Tests.Support;

namespace Virt.Tests.Rbd;

/// <summary>The OSD blocklist: entries added and removed by the binding are the ones the ceph CLI lists, and back.</summary>
public sealed class BlocklistTests(RbdTestPool pool) : IClassFixture<RbdTestPool>
{
    /// <summary>Addresses no client of the tests has: a nonce of its own per test.</summary>
    private static string UnusedAddress() => $"127.0.0.1:0/{Random.Shared.Next(1, int.MaxValue)}";

    private async Task<List<(string Address, DateTimeOffset Until)>> CliBlocklist()
    {
        var text = await pool.Ceph.Ceph("osd", "blocklist", "ls", "--format", "json");
        return BlocklistEntry.Parse(text).Select(e => (e.Address, e.Until)).ToList();
    }

    [Fact]
    public async Task An_added_entry_is_listed_by_Ceph_with_its_expiry_and_removed_again()
    {
        var address = UnusedAddress();
        var before = DateTimeOffset.UtcNow;
        pool.Admin.Blocklist(address, TimeSpan.FromHours(3));
        var after = DateTimeOffset.UtcNow;

        var cli = Assert.Single(await CliBlocklist(), e => e.Address == address);
        Assert.InRange(cli.Until, before.AddHours(3).AddMinutes(-1), after.AddHours(3).AddMinutes(1)); // 3 h asked, not Ceph's default 1 h
        var mine = Assert.Single(pool.Admin.ListBlocklist(), e => e.Address == address);
        Assert.Equal(cli.Until, mine.Until);
        Assert.False(mine.IsRange);

        pool.Admin.Unblocklist(address);
        Assert.DoesNotContain(await CliBlocklist(), e => e.Address == address);
        Assert.DoesNotContain(pool.Admin.ListBlocklist(), e => e.Address == address);
    }

    [Fact]
    public async Task Without_an_expiry_Ceph_keeps_the_entry_for_its_default_hour()
    {
        var address = UnusedAddress();
        var before = DateTimeOffset.UtcNow;
        pool.Admin.Blocklist(address);
        var entry = Assert.Single(await CliBlocklist(), e => e.Address == address);
        Assert.InRange(entry.Until, before.AddMinutes(59), before.AddMinutes(61));
        pool.Admin.Unblocklist(address);
    }

    [Fact]
    public async Task Entries_added_with_the_ceph_CLI_are_listed_including_ranges()
    {
        var address = UnusedAddress();
        await pool.Ceph.Ceph("osd", "blocklist", "add", address);
        await pool.Ceph.Ceph("osd", "blocklist", "range", "add", "10.231.0.0/16");
        try
        {
            var list = pool.Admin.ListBlocklist();
            Assert.Contains(list, e => e.Address == address && !e.IsRange);
            Assert.Contains(list, e => e.Address.StartsWith("10.231.0.0") && e.IsRange);
        }
        finally
        {
            await pool.Ceph.Ceph("osd", "blocklist", "range", "rm", "10.231.0.0/16");
            pool.Admin.Unblocklist(address);
        }

        Assert.DoesNotContain(pool.Admin.ListBlocklist(), e => e.Address == address || e.IsRange && e.Address.StartsWith("10.231."));
    }

    [Fact]
    public void Removing_an_address_that_is_not_listed_is_not_an_error()
    {
        var address = UnusedAddress();
        pool.Admin.Unblocklist(address);
        Assert.DoesNotContain(pool.Admin.ListBlocklist(), e => e.Address == address);
    }

    [Fact]
    public void A_malformed_address_is_refused_with_an_example_of_a_good_one()
    {
        var add = Assert.ThrowsAny<RbdException>(() => pool.Admin.Blocklist("web-1"));
        Assert.Equal(CephErrno.EINVAL, add.Errno);
        Assert.Contains("blocklist web-1", add.Message);
        Assert.Contains("like 10.0.0.5:0/3713263485 (one client) or 10.0.0.5:0/0 (every client of that IP)", add.Message);

        var remove = Assert.ThrowsAny<RbdException>(() => pool.Admin.Unblocklist("web-1"));
        Assert.Contains("unable to parse address web-1", remove.Message);
    }

    /// <summary>On a cluster of its own: blocklisting every client of 127.0.0.1 would fence the other tests' clients too.</summary>
    [Fact]
    public async Task An_IP_entry_fences_every_client_of_that_IP_and_monitor_commands_still_work()
    {
        var ceph = await CephCluster.Start(memstoreBytes: 256L << 20);
        try
        {
            using var admin = ceph.Connect();
            using var victim = ceph.Connect();
            using var victimPool = victim.OpenPool("rbd");
            victimPool.CreateImage("disk", 1 << 20, RbdFeatures.Layering);
            using var disk = victimPool.OpenImage("disk");
            disk.Write(0, new byte[512]);

            admin.Blocklist("127.0.0.1:0/0");
            await Eventually.Until(() => Throws<RbdBlocklistedException>(() => disk.Write(0, new byte[512])), "the victim's writes fail");
            using (var adminPool = admin.OpenPool("rbd"))
                Assert.Throws<RbdBlocklistedException>(() => adminPool.ListImages()); // the admin shares the IP

            admin.Unblocklist("127.0.0.1:0/0"); // a monitor command: the OSD blocklist does not stop it
            Assert.DoesNotContain(admin.ListBlocklist(), e => e.Address == "127.0.0.1:0/0");
            using var fresh = ceph.Connect(); // a new client works again
            using var freshPool = fresh.OpenPool("rbd");
            Assert.Contains("disk", freshPool.ListImages());
        }
        finally
        {
            ceph.Stop();
        }
    }

    private static bool Throws<T>(Action action)
        where T : Exception
    {
        try
        {
            action();
            return false;
        }
        catch (T)
        {
            return true;
        }
    }
}
