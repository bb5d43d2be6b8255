using Virt.Node.Rbd;

namespace Virt.Tests.Rbd;

/// <summary>Connecting to the real test Ceph every supported way, and what a person is told when it cannot be done.</summary>
public sealed class ConnectTests(RbdTestPool pool) : IClassFixture<RbdTestPool>
{
    [Fact]
    public void Connects_with_a_ceph_conf_and_keyring_as_a_new_client_each_time()
    {
        using var a = RadosCluster.Connect(pool.Ceph.AdminOptions);
        using var b = RadosCluster.Connect(pool.Ceph.AdminOptions);
        Assert.Matches(@"^client\.\d+$", a.ClientName);
        Assert.NotEqual(a.ClientName, b.ClientName);
        Assert.NotEqual(a.Addresses(), b.Addresses());
    }

    [Fact]
    public void Connects_with_mon_host_user_and_key_without_any_file()
    {
        using var client = RadosCluster.Connect(new CephClientOptions { MonHost = pool.Ceph.MonHost, User = "client.admin", Key = pool.Ceph.AdminKey });
        using var p = client.OpenPool(pool.Name);
        var name = pool.NewImageName("bykey");
        p.CreateImage(name, 1 << 20);
        Assert.Contains(name, p.ListImages());
    }

    [Fact]
    public void Connects_with_mon_host_and_a_keyring_file()
    {
        using var client = RadosCluster.Connect(new CephClientOptions { MonHost = pool.Ceph.MonHost, Keyring = pool.Ceph.KeyringPath });
        Assert.NotEmpty(client.Addresses());
    }

    [Fact]
    public async Task The_addresses_are_the_ones_Ceph_sees_the_client_watching_from()
    {
        var name = pool.NewImageName("addr");
        pool.Pool.CreateImage(name, 1 << 20);
        var (client, p) = pool.NewClient();
        using (client)
        using (p)
        using (p.OpenImage(name)) // a read-write open watches the header object
        {
            var status = await pool.RbdJson("status", $"{pool.Name}/{name}");
            var watchers = status.GetProperty("watchers").EnumerateArray().Select(w => w.GetProperty("address").GetString()).ToList();
            var address = Assert.Single(client.Addresses());
            Assert.Contains(watchers, w => CephAddress.Bare(w!) == address);
        }
    }

    [Fact]
    public void A_wrong_key_is_refused_with_a_message_naming_the_user()
    {
        var wrong = Convert.ToBase64String(new byte[] { 1, 0, 0x4a, 0x5c, 0x10, 0x5f, 0, 0, 0, 0, 0x10, 0 }.Concat(new byte[16]).ToArray());
        var error = Assert.ThrowsAny<RbdException>(() => RadosCluster.Connect(new CephClientOptions { MonHost = pool.Ceph.MonHost, Key = wrong }));
        Assert.Contains("client.admin", error.Message);
        Assert.Contains(pool.Ceph.MonHost, error.Message);
        Assert.Equal("connect to Ceph as client.admin via " + pool.Ceph.MonHost, error.Operation);
    }

    [Fact]
    public void Connecting_without_any_key_says_that_none_was_given()
    {
        var error = Assert.ThrowsAny<RbdException>(() => RadosCluster.Connect(new CephClientOptions { MonHost = pool.Ceph.MonHost }));
        Assert.Contains("no key was given: give the user's keyring file or key", error.Message);
    }

    [Fact]
    public void No_monitor_answering_fails_within_the_connect_timeout_and_says_so()
    {
        var error = Assert.ThrowsAny<RbdException>(() => RadosCluster.Connect(new CephClientOptions
        {
            MonHost = "v2:127.0.0.1:1", Key = pool.Ceph.AdminKey, ConnectTimeout = TimeSpan.FromSeconds(1),
        }));
        Assert.Equal(CephErrno.ETIMEDOUT, error.Errno);
        Assert.Contains("no monitor answered within 1 s", error.Message);
    }

    [Theory]
    [InlineData(null, null, null, "give a ceph.conf path or the monitor addresses")]
    [InlineData("/nonexistent/ceph.conf", null, null, "the ceph.conf /nonexistent/ceph.conf does not exist")]
    [InlineData(null, "/nonexistent/keyring", null, "the keyring /nonexistent/keyring does not exist")]
    [InlineData(null, "KEYRING", "AQ==", "either a keyring file or a key, not both")]
    public void Bad_options_are_reported_before_connecting(string? conf, string? keyring, string? key, string expected)
    {
        var options = new CephClientOptions
        {
            ConfPath = conf,
            MonHost = conf is null && (keyring is not null || key is not null) ? pool.Ceph.MonHost : null,
            Keyring = keyring == "KEYRING" ? pool.Ceph.KeyringPath : keyring,
            Key = key,
        };
        var error = Assert.ThrowsAny<RbdException>(() => RadosCluster.Connect(options));
        Assert.Contains(expected, error.Message);
        Assert.Equal(CephErrno.EINVAL, error.Errno);
    }

    [Fact]
    public void An_unknown_Ceph_option_is_an_error_not_ignored()
    {
        var error = Assert.ThrowsAny<RbdException>(() => RadosCluster.Connect(pool.Ceph.AdminOptions with
        {
            Settings = new Dictionary<string, string> { ["rbd_blocklist_on_brake_lock"] = "false" },
        }));
        Assert.Contains("Ceph has no option 'rbd_blocklist_on_brake_lock'", error.Message);
    }

    [Fact]
    public void Opening_a_missing_pool_says_how_to_create_it()
    {
        var error = Assert.Throws<RbdNotFoundException>(() => pool.Admin.OpenPool("no-such-pool"));
        Assert.Contains("there is no pool 'no-such-pool'", error.Message);
        Assert.Contains("rbd pool init no-such-pool", error.Message);
    }
}
