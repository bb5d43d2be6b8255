using Virt.Node.Hosting;

namespace Virt.Tests.Shell;

/// <summary>The API address a node gives other nodes (where they carry a VM's console to).</summary>
public sealed class AdvertisedApiAddressTests
{
    [Theory]
    [InlineData("hv-01.example.net:9110", "http://127.0.0.1:9110", "hv-01", "hv-01.example.net:9110")] // virt.node.address wins
    [InlineData("", "http://127.0.0.1:41234", "127.0.0.1", "127.0.0.1:41234")] // the port Kestrel really took
    [InlineData("", "http://0.0.0.0:9110", "10.0.0.7", "10.0.0.7:9110")] // a wildcard: the cluster's host name for the node
    [InlineData("", "http://[::]:9110", "hv-02", "hv-02:9110")]
    [InlineData("", "http://[::]:9110", "fd00::7", "[fd00::7]:9110")]
    [InlineData("", "http://[::1]:9110", "hv-02", "[::1]:9110")]
    public void The_configured_address_else_the_bound_one_with_a_wildcard_host_replaced(string configured, string bound, string publicHost, string expected) =>
        Assert.Equal(expected, AdvertisedApiAddress.Resolve(configured, [bound], publicHost));

    [Fact]
    public void Nothing_before_the_api_listens_unless_configured()
    {
        Assert.Null(AdvertisedApiAddress.Resolve("", [], "hv-01"));
        Assert.Equal("hv-01:9110", AdvertisedApiAddress.Resolve("hv-01:9110", [], "hv-01"));
    }
}
