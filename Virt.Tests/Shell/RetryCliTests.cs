using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary>
/// The shell sends an Idempotency-Key with every change and, when the answer is lost, sends it once more: the node
/// does it once and the person is told it had been done. A real virt-node process behind a proxy that drops the
/// answer to the first POST.
/// </summary>
public sealed class RetryCliTests : IAsyncLifetime
{
    private readonly SingleNode _one = new("virt-retry");

    public Task InitializeAsync() => _one.InitializeAsync();

    public Task DisposeAsync() => _one.DisposeAsync();

    [Fact]
    public async Task A_create_whose_answer_was_lost_is_retried_once_and_done_once()
    {
        await using var proxy = new AnswerDroppingProxy(_one.Node.Address);
        var (exit, stdout, stderr) = await VirtCli.Against(proxy.Address, "vm", "create", "--name", "web-1", "--vcpus", "1", "--memory", "512MiB");
        Assert.Equal(1, proxy.Dropped); // the first answer really was lost
        Assert.True(exit == 0, stderr);
        Assert.Equal("web-1: defined (1 vCPU, 512 MiB); start it with 'virt vm start web-1'", stdout);
        Assert.Contains("the connection was lost before the answer; the node had done it already (not again)", stderr);

        var events = JsonNode.Parse(await _one.Node.Http.GetStringAsync("/v1/events?vm=web-1"))!.AsArray();
        Assert.Equal("defined", Assert.Single(events)!["type"]!.GetValue<string>()); // from the journal: defined once

        await using var second = new AnswerDroppingProxy(_one.Node.Address);
        (exit, stdout, stderr) = await VirtCli.Against(second.Address, "vm", "start", "web-1", "--wait");
        Assert.Equal((0, "web-1: running", 1), (exit, stdout, second.Dropped));
        Assert.Contains("the node had done it already", stderr);
        events = JsonNode.Parse(await _one.Node.Http.GetStringAsync("/v1/events?vm=web-1"))!.AsArray();
        Assert.Single(events, e => e!["type"]!.GetValue<string>() == "placement-requested");
    }
}
