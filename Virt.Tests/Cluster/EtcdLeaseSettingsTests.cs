using System.Reflection;
using Akka.Configuration;
using Akka.Coordination;
using Virt.Actors.Cluster;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

/// <summary>The lease block: read the way the lease reads it, and every mistake named by its key, all at once.</summary>
public sealed class EtcdLeaseSettingsTests
{
    private static readonly Config AkkaDefaults = LeaseProvider.DefaultConfig().GetConfig("akka.coordination.lease");

    private static IReadOnlyList<(string Key, string Problem)> Problems(string hocon) =>
        EtcdLeaseSettings.Problems(ConfigurationFactory.ParseString(hocon).WithFallback(AkkaDefaults), new HashSet<string>());

    [Fact]
    public void Every_problem_of_a_broken_block_is_named_by_its_key_at_once()
    {
        var problems = Problems("""
            endpoint = "http://127.0.0.1:2379"
            heartbeat-timeout = 6s
            heartbeat-interval = 2s
            tls { cert-file = "/tmp/client.pem", ca = "/tmp/ca.pem" }
            """);

        var keys = problems.Select(p => p.Key).ToList();
        Assert.Contains("endpoint", keys);      // a typo: unknown keys are errors
        Assert.Contains("endpoints", keys);     // so the real one is missing
        Assert.Contains("safety-margin", keys); // 2 x 2s leaves no room for a renewal in 6s
        Assert.Contains("tls.ca", keys);
        Assert.Contains("tls.key-file", keys);  // a certificate without its key
        Assert.Contains(problems, p => p.Key == "endpoints" && p.Problem.Contains("http://10.0.0.1:2379"));
        Assert.Contains(problems, p => p.Key == "safety-margin" && p.Problem.Contains("lower heartbeat-interval or set safety-margin"));
    }

    [Theory]
    [InlineData("[\"10.0.0.1:2379\"]", "is not an etcd client URL")]
    [InlineData("[\"http://10.0.0.1\"]", "has no port")]
    [InlineData("[\"http://10.0.0.1:2379/v3\"]", "has a path")]
    [InlineData("[\"http://10.0.0.1:2379\", \"https://10.0.0.2:2379\"]", "mix http:// and https://")]
    [InlineData("[]", "is empty")]
    [InlineData("\"http://10.0.0.1:2379\"", "must be a list")]
    public void Endpoints_that_are_not_etcd_client_urls_are_refused_with_what_to_write(string endpoints, string expected)
    {
        var problem = Assert.Single(Problems($"endpoints = {endpoints}"));
        Assert.Equal("endpoints", problem.Key);
        Assert.Contains(expected, problem.Problem);
    }

    [Fact]
    public void Tls_files_need_https_endpoints_and_must_load()
    {
        using var dir = new TempDirectory("lease-tls");
        var certs = new TestCertificates(dir.Path);
        var withHttp = Problems($"endpoints = [\"http://127.0.0.1:2379\"]\ntls {{ ca-file = \"{certs.CaFile}\" }}");
        Assert.Equal("tls", Assert.Single(withHttp).Key);

        var missing = Problems($"endpoints = [\"https://127.0.0.1:2379\"]\ntls {{ ca-file = \"{dir.File("nope.pem")}\" }}");
        Assert.Contains("cannot read", Assert.Single(missing, p => p.Key == "tls.ca-file").Problem);

        Assert.Empty(Problems($"endpoints = [\"https://127.0.0.1:2379\"]\ntls {{ ca-file = \"{certs.CaFile}\", cert-file = \"{certs.ClientCertFile}\", key-file = \"{certs.ClientKeyFile}\" }}"));
    }

    [Fact]
    public void An_option_writes_a_block_the_lease_reads_back_with_the_documented_defaults()
    {
        var option = new EtcdLeaseOption { Endpoints = ["http://10.0.0.1:2379", "http://10.0.0.2:2379"], HeartbeatTimeout = TimeSpan.FromMilliseconds(4500), HeartbeatInterval = TimeSpan.FromSeconds(1) };
        Assert.Empty(option.Problems());
        var block = ConfigurationFactory.ParseString(option.ToHocon()).GetConfig(EtcdLeaseOption.DefaultConfigPath).WithFallback(AkkaDefaults);

        var settings = EtcdLeaseSettings.Parse(block, null, "in the test");
        Assert.Equal("Virt.Actors.Cluster.EtcdLease, Virt.Actors", block.GetString("lease-class"));
        Assert.NotNull(Type.GetType(block.GetString("lease-class")));
        Assert.Equal([new Uri("http://10.0.0.1:2379"), new Uri("http://10.0.0.2:2379")], settings.Endpoints);
        Assert.Equal("/virt/leases/", settings.KeyPrefix);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Ttl); // etcd counts whole seconds: rounded up
        Assert.Equal(TimeSpan.FromSeconds(2), settings.SafetyMargin); // twice heartbeat-interval
        Assert.Equal(TimeSpan.FromSeconds(5), settings.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Timeouts.OperationTimeout); // Akka's default
        Assert.Null(settings.Tls);
    }

    [Fact]
    public void An_option_that_cannot_work_is_refused_when_applied_with_its_config_path()
    {
        var option = new EtcdLeaseOption("virt.cluster.lease") { HeartbeatTimeout = TimeSpan.FromSeconds(2), HeartbeatInterval = TimeSpan.FromMilliseconds(900) };
        var failure = Assert.Throws<ConfigurationException>(() => option.Apply(new Akka.Hosting.AkkaConfigurationBuilder(new Microsoft.Extensions.DependencyInjection.ServiceCollection(), "test")));
        Assert.Contains("virt.cluster.lease", failure.Message);
        Assert.Contains("endpoints: is empty", failure.Message);
        Assert.Contains("safety-margin:", failure.Message);
    }

    [Fact]
    public void A_typo_in_a_lease_block_stops_the_lease_when_Akka_loads_it_naming_the_key()
    {
        var config = ConfigurationFactory.ParseString("""
            virt.test.lease {
              lease-class = "Virt.Actors.Cluster.EtcdLease, Virt.Actors"
              endpoints = ["http://127.0.0.1:2379"]
              key-prefx = "/x/"
            }
            """);
        using var kit = new Akka.TestKit.Xunit2.TestKit(config, "typo");
        var failure = Assert.ThrowsAny<Exception>(() => LeaseProvider.Get(kit.Sys).GetLease("l", "virt.test.lease", "n:1"));
        var cause = failure is TargetInvocationException { InnerException: { } inner } ? inner : failure;
        Assert.IsType<ConfigurationException>(cause);
        Assert.Contains("key-prefx: is not a key of the etcd lease", cause.Message);
    }
}
