using Virt.Shell.Parsing;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

/// <summary>hocon/examples/three-node.conf runs as written: the three command lines in its header form one cluster.</summary>
public sealed class ExampleClusterTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-example");
    private readonly List<ChildProcess> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Signal(Posix.SigTerm);
            try
            {
                await node.WaitForExit(TimeSpan.FromSeconds(20));
            }
            catch (OperationCanceledException)
            {
            }

            node.Dispose();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task The_three_node_example_forms_one_cluster_as_written()
    {
        var example = Path.Combine(Binaries.RepoRoot, "hocon", "examples", "three-node.conf");
        var lines = File.ReadAllLines(example).Where(l => l.TrimStart('#', ' ').StartsWith("virt-node ", StringComparison.Ordinal)).Select(l => l.TrimStart('#', ' ')).ToList();
        Assert.Equal(3, lines.Count);
        var postgres = await (await PostgresServer.Shared).CreateDatabase("example");
        using var host = new SimulatedHost();

        // As written, but with this test's own data directories, and its own PostgreSQL through the documented VIRT_POSTGRESQL.
        foreach (var line in lines)
        {
            var words = Words.Split(line, out _).Select(w => w.Text).ToList();
            var data = words[words.IndexOf(words.First(w => w.StartsWith("virt.data-dir=", StringComparison.Ordinal)))];
            words[words.IndexOf(data)] = $"virt.data-dir={_dir.File(data.Split('/')[^1])}";
            var process = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.VirtNode, .. words.Skip(1), "--set", $"virt.libvirt.uri={host.Uri}"],
                new Dictionary<string, string> { ["VIRT_POSTGRESQL"] = postgres }, workingDirectory: Binaries.RepoRoot);
            _nodes.Add(process);
        }

        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:9111"), Timeout = TimeSpan.FromSeconds(10) };
        var members = await Eventually.Until(async () =>
        {
            try
            {
                return (await http.GetStringAsync("/v1/cluster")).Split("\"status\":\"up\"").Length - 1;
            }
            catch (HttpRequestException)
            {
                return 0;
            }
        }, n => n >= 4, "three members up (and this node up)", 90);
        Assert.True(members >= 4);
    }
}
