using Virt.Node.Rbd;

namespace Virt.Tests.Rbd;

/// <summary>The text Ceph prints, as captured from Ceph 16 on this machine, read without a cluster.</summary>
public sealed class CephTextTests
{
    [Fact]
    public void The_blocklist_listing_is_two_arrays_back_to_back_addresses_then_ranges()
    {
        const string listing = """[{"addr":"127.0.0.1:0/1234","until":"2026-12-01T11:19:39.192507+0000"}][{"range":"10.9.9.0:0/24","until":"2026-12-01T11:19:50.007470-0130"}]""";
        var entries = BlocklistEntry.Parse(listing);
        Assert.Equal(
            [
                new BlocklistEntry("127.0.0.1:0/1234", new DateTimeOffset(2026, 12, 1, 11, 19, 39, TimeSpan.Zero).AddTicks(1925070), false),
                new BlocklistEntry("10.9.9.0:0/24", new DateTimeOffset(2026, 12, 1, 11, 19, 50, TimeSpan.FromMinutes(-90)).AddTicks(74700), true),
            ],
            entries);
        Assert.Empty(BlocklistEntry.Parse("[][]"));
        Assert.Empty(BlocklistEntry.Parse("[]"));
        Assert.Throws<FormatException>(() => BlocklistEntry.Parse("""{"addr":"x"}"""));
    }

    [Theory]
    [InlineData("127.0.0.1:0/2748456969", "127.0.0.1:0/2748456969")]
    [InlineData("[v2:10.0.0.5:0/77,v1:10.0.0.5:0/77]", "10.0.0.5:0/77")]
    [InlineData("any:10.0.0.5:0/77", "10.0.0.5:0/77")]
    public void Address_vectors_reduce_to_the_bare_addresses_the_blocklist_takes(string printed, string bare) =>
        Assert.Equal([bare], CephAddress.ParseVector(printed));

    [Theory]
    [InlineData("v1:127.0.0.1:0/12", "127.0.0.1")]
    [InlineData("10.0.0.5:0/0", "10.0.0.5")]
    [InlineData("[::1]:0/12", "::1")]
    public void The_IP_of_an_address(string address, string ip) => Assert.Equal(ip, CephAddress.Ip(address));

    [Fact]
    public void User_names_get_the_client_type_unless_they_have_one()
    {
        Assert.Equal("client.admin", new CephClientOptions { User = "admin" }.EntityName);
        Assert.Equal("client.virt", new CephClientOptions { User = "client.virt" }.EntityName);
    }
}
