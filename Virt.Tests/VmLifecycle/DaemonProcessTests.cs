using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>The daemon as a process: one per data directory, and an orderly stop on SIGTERM.</summary>
public sealed class DaemonProcessTests : IAsyncLifetime
{
    private readonly SingleNode _one = new("virt-daemon");

    public Task InitializeAsync() => _one.InitializeAsync();

    public Task DisposeAsync() => _one.DisposeAsync();

    [Fact]
    public async Task A_second_daemon_on_the_same_data_directory_refuses_and_says_which_process_holds_it()
    {
        await using var second = new VirtNodeProcess(_one.Dir.Path, _one.Host.Uri);
        var (exit, stderr) = await second.StartExpectingRefusal();
        Assert.Equal(2, exit);
        Assert.Equal($"virt-node: the data directory {_one.Dir.Path} is in use by another virt-node (process {_one.Node.Pid}); stop that one first, or give this one its own virt.data-dir", stderr.Trim());
        Assert.True((await _one.Node.Http.GetAsync("/v1/health")).IsSuccessStatusCode); // the first one is untouched

        // The lock goes with the process, however it ends.
        _one.Node.Kill();
        await second.Start();
        Assert.True((await second.Http.GetAsync("/v1/health")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task SIGTERM_stops_in_order_leaving_the_cluster_after_handing_off_the_shards_and_exits_0()
    {
        await _one.Node.Http.PostAsync("/v1/vms", new StringContent("{\"name\": \"web-1\", \"vcpus\": 1, \"memory\": \"256MiB\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(0, await _one.Node.Stop());

        var log = _one.Node.Output;
        int At(string text) => log.Select((line, i) => (line, i)).FirstOrDefault(x => x.line.Contains(text, StringComparison.Ordinal), (null!, -1)).Item2;
        var shutdown = At("CoordinatedShutdown invoked");
        var shards = At("Starting shutting down shards");
        var leaving = At("as [Leaving]");
        var exited = At("Exiting completed");
        Assert.True(shutdown >= 0 && shards > shutdown && leaving > shards && exited > leaving, $"shutdown {shutdown}, shards {shards}, leaving {leaving}, exited {exited}:\n{string.Join('\n', log.TakeLast(40))}");

        await _one.Node.Start(); // and the data directory is free at once
        Assert.Equal("web-1", (await _one.Node.Get("/v1/vms/web-1"))["name"]!.GetValue<string>());
    }
}
