using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>Bad input as a user would send it: a clear error naming the problem, and nothing changed.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-node");
    private readonly SimulatedHost _host = new();
    private InProcessNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = new InProcessNode(_dir.Path, _host.Uri);
        await _node.Start();
        await _node.Post("/v1/vms", new { name = "web-1", vcpus = 2, memory = "1GiB" }, expect: 201);
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _host.Dispose();
        _dir.Dispose();
    }

    private async Task<long> JournalEvents() => (await _node.Get("/v1/events?limit=10000")).AsArray().Count;

    private async Task<JsonNode> Refused(HttpMethod method, string path, object? body, int status)
    {
        var before = await JournalEvents();
        var problem = await _node.Json(method, path, body, expect: status);
        Assert.Equal(status, problem["status"]!.GetValue<int>());
        Assert.Equal(before, await JournalEvents()); // nothing was stored
        return problem;
    }

    [Theory]
    [InlineData("{\"name\": \"x\", \"vcpus\": 2, ", "body", "not valid JSON at line 1")]
    [InlineData("[1, 2]", "", "must be a JSON object")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 2, \"memory\": \"-2GiB\"}", "memory", "must be more than zero")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 2, \"memory\": \"0\"}", "memory", "must be more than zero")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 2, \"memoryMib\": -5}", "memoryMib", "at least 16 MiB")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 2, \"memory\": \"lots\"}", "memory", "is not a size")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 0, \"memory\": \"1GiB\"}", "vcpus", "between 1 and 4096")]
    [InlineData("{\"name\": \"x\", \"vcpus\": \"two\", \"memory\": \"1GiB\"}", "vcpus", "whole number")]
    [InlineData("{\"name\": \"my vm\", \"vcpus\": 1, \"memory\": \"1GiB\"}", "name", "no spaces or slashes")]
    [InlineData("{\"name\": \"a/b\", \"vcpus\": 1, \"memory\": \"1GiB\"}", "name", "no spaces or slashes")]
    [InlineData("{\"vcpus\": 1, \"memory\": \"1GiB\"}", "name", "is required")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"restart\": \"sometimes\"}", "restart", "always, on-failure, never")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"disks\": [{\"kind\": \"rbd\", \"path\": \"pool/img\"}]}", "disks[0].monitors", "at least one monitor")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"nics\": [{\"kind\": \"bridge\", \"source\": \"br0\", \"vlan\": 5000}]}", "nics[0].vlan", "between 1 and 4094")]
    public async Task A_bad_spec_is_a_400_naming_the_field(string body, string field, string message)
    {
        var problem = await Refused(HttpMethod.Post, "/v1/vms", body, 400);
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"no error for '{field}' in {problem}");
        Assert.Contains(message, errors[field]!.AsArray().First()!.GetValue<string>());
        Assert.Single((await _node.Get("/v1/vms")).AsArray());
    }

    [Fact]
    public async Task Every_problem_in_a_spec_is_reported_at_once()
    {
        var problem = await Refused(HttpMethod.Post, "/v1/vms", "{\"name\": \"a b\", \"vcpus\": 0, \"memory\": \"1\"}", 400);
        Assert.Equal(["memory", "name", "vcpus"], problem["errors"]!.AsObject().Select(e => e.Key).Order());
    }

    [Fact]
    public async Task A_duplicate_name_is_a_409_and_the_first_vm_is_unchanged()
    {
        var before = await _node.Get("/v1/vms/web-1");
        var problem = await Refused(HttpMethod.Post, "/v1/vms", new { name = "web-1", vcpus = 8, memory = "8GiB" }, 409);
        Assert.Contains("VM web-1 already exists", problem["detail"]!.GetValue<string>());
        Assert.Equal(before.ToJsonString(), (await _node.Get("/v1/vms/web-1")).ToJsonString());
    }

    [Theory]
    [InlineData("POST", "/v1/vms/nope/start")]
    [InlineData("POST", "/v1/vms/nope/stop")]
    [InlineData("DELETE", "/v1/vms/nope")]
    [InlineData("GET", "/v1/vms/nope")]
    [InlineData("GET", "/v1/vms/has%20space")]
    public async Task An_unknown_vm_is_a_404_that_says_how_to_find_the_right_name(string method, string path)
    {
        var problem = await Refused(new HttpMethod(method), path, null, 404);
        Assert.Contains("virt vm list", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_deleted_vm_cannot_be_started()
    {
        await _node.Json(HttpMethod.Delete, "/v1/vms/web-1", expect: 204);
        await Refused(HttpMethod.Post, "/v1/vms/web-1/start", null, 404);
    }

    [Fact]
    public async Task Updating_the_spec_of_a_running_vm_is_a_409_with_the_state()
    {
        await _node.Post("/v1/vms/web-1/start", expect: 202);
        await _node.WaitForState("web-1", "running");
        var problem = await Refused(HttpMethod.Put, "/v1/vms/web-1", new { vcpus = 4, memory = "2GiB" }, 409);
        Assert.Equal("running", problem["state"]!.GetValue<string>());
        Assert.Contains("Stop it first", problem["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Updating_a_stopped_vm_keeps_its_uuid()
    {
        var before = await _node.Get("/v1/vms/web-1");
        var updated = await _node.Json(HttpMethod.Put, "/v1/vms/web-1", new { vcpus = 4, memory = "2GiB" }, expect: 202);
        Assert.Equal((4, 2048L), (updated["vcpus"]!.GetValue<int>(), updated["memoryMib"]!.GetValue<long>()));
        Assert.Equal(before["uuid"]!.GetValue<string>(), updated["uuid"]!.GetValue<string>());
    }
}

/// <summary>libvirt unreachable when virt-node starts: it runs, says so, refuses what needs libvirt, and recovers.</summary>
public sealed class UnreachableLibvirtTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-node");
    private readonly SimulatedHost _host = new(write: false);
    private InProcessNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = new InProcessNode(_dir.Path, _host.Uri, "virt.libvirt.reconnect-min=50ms", "virt.libvirt.reconnect-max=200ms");
        await _node.Start(waitForHealthy: false);
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _host.Dispose();
    }

    [Fact]
    public async Task The_daemon_reports_unhealthy_refuses_what_needs_libvirt_and_recovers_when_libvirt_returns()
    {
        var health = await _node.Json(HttpMethod.Get, "/v1/health", expect: 503);
        Assert.False(health["libvirt"]!.GetValue<bool>());
        var node = await _node.Get("/v1/node");
        Assert.False(node["healthy"]!.GetValue<bool>());
        Assert.Contains(_host.Path, node["error"]!.GetValue<string>());

        await _node.Post("/v1/vms", new { name = "web-1", vcpus = 1, memory = "512MiB" }, expect: 201); // no libvirt needed
        var refused = await _node.Post("/v1/vms/web-1/start", expect: 503);
        Assert.Contains("is unreachable", refused["detail"]!.GetValue<string>());
        Assert.Contains("nothing was changed", refused["detail"]!.GetValue<string>());
        Assert.Equal("stopped", (await _node.Get("/v1/vms/web-1"))["state"]!.GetValue<string>());
        Assert.True((await _node.Get("/v1/node"))["reconnectAttempts"]!.GetValue<int>() >= 1);

        _host.Write(); // libvirt comes back
        await _node.WaitUntilHealthy();
        await _node.Post("/v1/vms/web-1/start", expect: 202);
        await _node.WaitForState("web-1", "running");
    }
}
