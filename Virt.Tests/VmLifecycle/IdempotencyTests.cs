using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>
/// Idempotency-Key on creates and commands, on a whole node: a retry is answered with the VM as it is and nothing is
/// done again, also after the node restarted (the key is stored with the command's event); counted in the journal.
/// </summary>
public sealed class IdempotencyTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-idem");
    private readonly SimulatedHost _host = new();
    private InProcessNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = new InProcessNode(_dir.Path, _host.Uri);
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _host.Dispose();
        _dir.Dispose();
    }

    private async Task<(int Status, JsonNode Body, bool Replayed)> Send(HttpMethod method, string path, string? key, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
            request.Headers.Add("Idempotency-Key", key);
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _node.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!, response.Headers.TryGetValues("Idempotency-Replayed", out var v) && v.Single() == "true");
    }

    private const string Spec = """{"name": "web-1", "vcpus": 1, "memory": "512MiB"}""";

    [Fact]
    public async Task A_retried_create_returns_the_original_vm_instead_of_409_even_after_a_restart()
    {
        var first = await Send(HttpMethod.Post, "/v1/vms", "create-web-1", Spec);
        Assert.Equal((201, false), (first.Status, first.Replayed));
        var uuid = first.Body["uuid"]!.GetValue<string>();
        var events = await _node.StoredVmEvents();

        var retry = await Send(HttpMethod.Post, "/v1/vms", "create-web-1", Spec);
        Assert.Equal((201, true, uuid), (retry.Status, retry.Replayed, retry.Body["uuid"]!.GetValue<string>())); // the same VM, not a new uuid
        Assert.Equal(409, (await Send(HttpMethod.Post, "/v1/vms", null, Spec)).Status); // without the key it is a second create
        Assert.Equal(409, (await Send(HttpMethod.Post, "/v1/vms", "another-key", Spec)).Status);
        var reused = await Send(HttpMethod.Post, "/v1/vms", "create-web-1", """{"name": "web-1", "vcpus": 2, "memory": "512MiB"}""");
        Assert.Equal(422, reused.Status);
        Assert.Contains("was used with another request for VM web-1; nothing was done", reused.Body["detail"]!.GetValue<string>());
        Assert.Equal(events, await _node.StoredVmEvents()); // no retry stored anything

        await _node.Stop();
        await _node.Start();
        retry = await Send(HttpMethod.Post, "/v1/vms", "create-web-1", Spec);
        Assert.Equal((201, true, uuid), (retry.Status, retry.Replayed, retry.Body["uuid"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_retried_command_is_not_done_again()
    {
        await Send(HttpMethod.Post, "/v1/vms", null, Spec);
        var start = await Send(HttpMethod.Post, "/v1/vms/web-1/start", "start-1");
        Assert.Equal(202, start.Status);
        await _node.WaitForState("web-1", "running");
        var stop = await Send(HttpMethod.Post, "/v1/vms/web-1/stop", "stop-1");
        Assert.Equal(202, stop.Status);
        await _node.WaitForState("web-1", "stopped");
        var events = await _node.StoredVmEvents();

        // The start's answer was "lost"; retried after the stop, it must not start the VM again.
        start = await Send(HttpMethod.Post, "/v1/vms/web-1/start", "start-1");
        Assert.Equal((200, true, "stopped"), (start.Status, start.Replayed, start.Body["state"]!.GetValue<string>()));
        Assert.False(await _node.RunsInLibvirt("web-1"));
        Assert.Equal(events, await _node.StoredVmEvents());
        Assert.Equal(422, (await Send(HttpMethod.Post, "/v1/vms/web-1/restart", "stop-1")).Status); // a stop's key on a restart

        var delete = await Send(HttpMethod.Delete, "/v1/vms/web-1", "delete-1");
        Assert.Equal(204, delete.Status);
        delete = await Send(HttpMethod.Delete, "/v1/vms/web-1", "delete-1"); // gone, yet its retry is answered, not 404
        Assert.Equal((204, true), (delete.Status, delete.Replayed));
        Assert.Equal(404, (await Send(HttpMethod.Delete, "/v1/vms/web-1", "delete-2")).Status);

        var bad = await Send(HttpMethod.Post, "/v1/vms/web-1/start", "has spaces");
        Assert.Equal(400, bad.Status);
        Assert.Contains("Idempotency-Key: must be 1 to 128 printable characters", bad.Body["detail"]!.GetValue<string>());
    }
}
