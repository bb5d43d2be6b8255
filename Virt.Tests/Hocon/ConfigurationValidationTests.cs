using Virt.Hocon;
using Virt.Node.Configuration;
using Virt.Tests.Support;

namespace Virt.Tests.Hocon;

/// <summary>
/// A configuration is checked before virt-node writes anything: unknown keys name the nearest known one, wrong values
/// name file:line, the key and what was expected, and the daemon exits 2 with one line per problem.
/// </summary>
public sealed class ConfigurationValidationTests
{
    private static List<string> Check(string fileText, params string[] overrides)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("node.conf"), fileText);
        var resolved = NodeConfiguration.Load(dir.File("node.conf"), overrides, _ => null);
        return ConfigurationValidator.Check(resolved).Select(p => p.Replace(dir.File("node.conf"), "node.conf", StringComparison.Ordinal)).ToList();
    }

    [Fact]
    public void The_embedded_defaults_are_valid_and_document_every_key_the_options_bind()
    {
        var defaults = NodeConfiguration.Load(null, [], _ => null);
        Assert.Empty(ConfigurationValidator.Check(defaults));

        // Every key an options class binds appears in hocon/virt.conf (where it is documented), and only those.
        var documented = Keys((HoconObject)defaults["virt"]!, ConfigurationValidator.Schema, "virt").ToHashSet();
        var bound = Keys(ConfigurationValidator.Schema, "virt").ToHashSet();
        Assert.Empty(bound.Except(documented));
        Assert.Empty(documented.Except(bound));
    }

    /// <summary>The keys of the document, down to where the schema has a leaf (a map such as overcommit counts as one key).</summary>
    private static IEnumerable<string> Keys(HoconObject o, OptionsSchema.Object schema, string path) =>
        o.Fields.SelectMany(f => f.Value is HoconObject child && schema.Fields.GetValueOrDefault(f.Key) is OptionsSchema.Object inner
            ? Keys(child, inner, $"{path}.{f.Key}")
            : [$"{path}.{f.Key}"]);

    private static IEnumerable<string> Keys(OptionsSchema.Object o, string path) =>
        o.Fields.SelectMany(f => f.Value is OptionsSchema.Object child ? Keys(child, $"{path}.{f.Key}") : [$"{path}.{f.Key}"]);

    [Fact]
    public void An_unknown_key_is_an_error_naming_the_nearest_known_key()
    {
        var problems = Check("virt {\n  vm {\n    stop-tiemout = 30s\n  }\n  libvrit.uri = \"qemu:///system\"\n  frobnicate = 1\n}\n");
        Assert.Equal(3, problems.Count);
        Assert.Contains("node.conf:3:20: virt.vm.stop-tiemout: unknown key; did you mean virt.vm.stop-timeout?", problems);
        Assert.Contains(problems, p => p.StartsWith("node.conf:5:") && p.Contains("virt.libvrit: unknown key; did you mean virt.libvirt?"));
        Assert.Contains(problems, p => p.StartsWith("node.conf:6:") && p.Contains("virt.frobnicate: unknown key; the keys under virt are api, balancer, cluster, data-dir"));
    }

    [Theory]
    [InlineData("virt.vm.stop-timeout = 60 seconds please", "node.conf:1:24: virt.vm.stop-timeout: '60 seconds please' is not a duration; write a number with a unit, like 500ms, 60s, 2m")]
    [InlineData("virt.vm.max-restarts = \"three\"", "node.conf:1:24: virt.vm.max-restarts: 'three' is not a whole number")]
    [InlineData("virt.vm.stop-timeout = -5s", "virt.vm.stop-timeout: must be a positive duration, like 30s")]
    [InlineData("virt.libvirt.reconnect-min = 1m", "virt.libvirt.reconnect-min: (60s) is above reconnect-max (30s)")]
    [InlineData("virt.libvirt.channel-dir = channels", "virt.libvirt.channel-dir: 'channels' must be an absolute directory path (or empty for channels in virt.data-dir)")]
    [InlineData("virt.libvirt.channel-dir = \"/srv/a-very-long-directory-name/for/the/startup/signal/sockets/of/vms\"", "virt.libvirt.channel-dir: '/srv/a-very-long-directory-name/for/the/startup/signal/sockets/of/vms' is 69 characters; keep it to 66 at most")]
    [InlineData("virt.vm.ready-timeout = 0s", "virt.vm.ready-timeout: must be a positive duration, like 30s")]
    [InlineData("virt.node.name = \"hv 01\"", "virt.node.name: 'hv 01' is not a valid node name")]
    [InlineData("virt.node.name = \"hv/01\"", "virt.node.name: 'hv/01' is not a valid node name")]
    [InlineData("virt.api.listen = \"nine-one-one-zero\"", "virt.api.listen: 'nine-one-one-zero' is not address:port")]
    [InlineData("virt.node.roles = hypervisor", "virt.node.roles: expected a list of strings, like [\"a\", \"b\"], not 'hypervisor'")]
    [InlineData("virt.vm { stop-timeout { seconds = 5 } }", "virt.vm.stop-timeout: expected a duration (like 60s), not an object")]
    [InlineData("virt.balancer.overcommit.vcpu = lots", "virt.balancer.overcommit.vcpu: 'lots' is not a number")]
    [InlineData("virt.balancer.overcommit.disk = 2.0", "virt.balancer.overcommit.disk: is not a dimension the balancer knows; use vcpu or memory")]
    [InlineData("virt.persistence.sqlite.synchronous = sometimes", "virt.persistence.sqlite.synchronous: 'sometimes' is not one of full, normal")]
    [InlineData("virt.cluster.seed-nodes = [\"10.0.0.2:4053\"]", "virt.cluster.seed-nodes: a node that joins other nodes needs the shared journal; set virt.persistence.postgresql.connection-string")]
    [InlineData("virt.cluster.etcd.endpoints = [\"10.0.0.5\"]", "virt.cluster.etcd.endpoints: '10.0.0.5' is not an etcd client URL")]
    [InlineData("virt.cluster.etcd { endpoints = [\"http://10.0.0.5:2379\"], heartbeat-timeout = 2s }", "virt.cluster.etcd.heartbeat-timeout: must be more than three times heartbeat-interval (1000ms)")]
    [InlineData("virt.cluster.etcd.heartbeat-timeuot = 5s", "virt.cluster.etcd.heartbeat-timeuot: unknown key; did you mean virt.cluster.etcd.heartbeat-timeout?")]
    public void A_wrong_value_names_the_key_and_what_was_expected(string line, string expected)
    {
        var problems = Check(line + "\n");
        Assert.True(problems.Count == 1, string.Join('\n', problems));
        Assert.Contains(expected, problems[0]);
        Assert.StartsWith("node.conf:1:", problems[0]); // the line that set it, even for a rule about two keys
    }

    [Fact]
    public void A_bad_override_names_the_set_it_came_from()
    {
        var problems = Check("", "virt.vm.start-timeout=soon");
        Assert.Contains("--set #1 (virt.vm.start-timeout=soon):1:1: virt.vm.start-timeout: 'soon' is not a duration", Assert.Single(problems));
    }

    /// <summary>As an operator meets it: the real binary, several problems, one line each, exit 2, nothing written.</summary>
    [Fact]
    public async Task Virt_node_exits_2_with_one_line_per_problem_and_creates_nothing()
    {
        using var dir = new TempDirectory();
        var data = dir.File("data");
        File.WriteAllText(dir.File("node.conf"), $"virt {{\n  data-dir = \"{data}\"\n  vm.stop-tiemout = 30s\n  vm.max-restarts = three\n  node.name = \"a b\"\n}}\n");
        foreach (var print in new[] { false, true })
        {
            using var process = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.VirtNode, "--config", dir.File("node.conf"), "--set", "virt.api.listen=127.0.0.1:0", .. print ? new[] { "--print-config" } : []]);
            while (await process.ReadLine(TimeSpan.FromSeconds(60)) is not null)
            {
            }

            Assert.Equal(2, await process.WaitForExit(TimeSpan.FromSeconds(60)));
            var lines = process.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.All(lines, l => Assert.StartsWith("virt-node: configuration error: " + dir.File("node.conf") + ":", l));
            Assert.Contains(lines, l => l.Contains("virt.vm.stop-tiemout: unknown key; did you mean virt.vm.stop-timeout?"));
            Assert.Contains(lines, l => l.Contains("virt.vm.max-restarts: 'three' is not a whole number"));
            Assert.Contains(lines, l => l.Contains("virt.node.name: 'a b' is not a valid node name"));
            Assert.DoesNotContain("   at ", process.Stderr);
            Assert.False(Directory.Exists(data), "the data directory was created although the configuration was refused");
        }
    }
}
