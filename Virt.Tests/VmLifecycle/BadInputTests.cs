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

    /// <summary>Sends a request that must be refused with <paramref name="status"/> as problem+json, and checks in the database that nothing was stored.</summary>
    private async Task<JsonNode> Refused(HttpMethod method, string path, object? body, int status)
    {
        var before = await _node.StoredVmEvents();
        using var request = new HttpRequestMessage(method, path);
        // The body waits for the server's go-ahead (as curl does for large bodies): a refusal on the declared length
        // then arrives before any of it is sent, instead of a reset mid-upload racing the answer.
        request.Headers.ExpectContinue = true;
        if (body is not null)
            request.Content = body is string raw ? new StringContent(raw, System.Text.Encoding.UTF8, "application/json") : System.Net.Http.Json.JsonContent.Create(body);
        using var response = await _node.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{method} {path}: expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!;
        Assert.Equal(status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>()), $"no detail in {text}");
        Assert.Equal(before, await _node.StoredVmEvents()); // nothing was stored
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
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"readiness\": {\"kind\": \"ping\"}}", "readiness.kind", "'ping' is not one of none, virtio-signal, guest-agent, tcp")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"readiness\": {\"timeout\": \"30s\"}}", "readiness.kind", "is required")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"readiness\": {\"kind\": \"tpc\", \"tcp\": \"h:1\"}}", "readiness.kind", "'tpc' is not one of none, virtio-signal, guest-agent, tcp; did you mean 'tcp'?")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"readiness\": {\"kind\": \"tcp\"}}", "readiness.tcp", "is required for kind tcp")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"readiness\": {\"kind\": \"tcp\", \"tcp\": \"10.0.0.5\"}}", "readiness.tcp", "is not host:port")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"readiness\": {\"kind\": \"virtio-signal\", \"tcp\": \"10.0.0.5:22\"}}", "readiness.tcp", "is only for kind tcp, not virtio-signal")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"readiness\": {\"kind\": \"virtio-signal\", \"timeout\": \"soon\"}}", "readiness.timeout", "is not a duration")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"readiness\": {\"kind\": \"virtio-signal\", \"timeout\": \"0s\"}}", "readiness.timeout", "must be a positive duration")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"readiness\": \"virtio-signal\"}", "readiness", "must be an object")]
    public async Task A_bad_spec_is_a_400_naming_the_field(string body, string field, string message)
    {
        var problem = await Refused(HttpMethod.Post, "/v1/vms", body, 400);
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"no error for '{field}' in {problem}");
        Assert.Contains(message, errors[field]!.AsArray().First()!.GetValue<string>());
        Assert.Single((await _node.Get("/v1/vms")).AsArray());
    }

    [Theory]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"disk\": [{\"path\": \"/img/x.qcow2\"}]}", "disk", "unknown field; did you mean 'disks'?")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"disks\": [{\"pth\": \"/img/x.qcow2\"}]}", "disks[0].pth", "unknown field; did you mean 'path'?")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"nics\": [{\"source\": \"default\", \"vlna\": 5}]}", "nics[0].vlna", "unknown field; did you mean 'vlan'?")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"colour\": \"blue\"}", "colour", "unknown field; the fields here are name, uuid, vcpus")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"name\": \"y\", \"memory\": \"1GiB\"}", "name", "appears twice in one object")]
    [InlineData("{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"readiness\": {\"kind\": \"tcp\", \"tcp\": \"h:1\", \"timout\": \"5s\"}}", "readiness.timout", "unknown field; did you mean 'timeout'?")]
    public async Task An_unknown_or_repeated_field_is_a_400_naming_it(string body, string field, string message) =>
        await A_bad_spec_is_a_400_naming_the_field(body, field, message);

    [Fact]
    public async Task Disks_without_a_target_get_the_next_free_ones_as_the_shell_gives_them()
    {
        var created = await _node.Post("/v1/vms", new
        {
            name = "disks", vcpus = 1, memory = "256MiB",
            disks = new object[] { new { path = "/img/a.qcow2" }, new { path = "/img/b.qcow2", target = "vda" }, new { path = "/img/c.qcow2" }, new { path = "/img/d.iso", bus = "sata" } },
        }, expect: 201);
        Assert.Equal(["vdb", "vda", "vdc", "sda"], created["disks"]!.AsArray().Select(d => d!["target"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Thousands_of_disks_are_refused_with_the_limit_and_the_answer_stays_short()
    {
        var disks = string.Join(",", Enumerable.Range(0, 2000).Select(i => $"{{\"path\": \"/img/{i}.qcow2\", \"target\": \"vda\", \"bus\": \"floppy\"}}"));
        var problem = await Refused(HttpMethod.Post, "/v1/vms", $"{{\"name\": \"many\", \"vcpus\": 1, \"memory\": \"1GiB\", \"disks\": [{disks}], \"nics\": [{disks}]}}", 400);
        Assert.Contains("disks: has 2000 entries; a VM can have at most 32", problem["detail"]!.GetValue<string>());
        Assert.True(problem["detail"]!.GetValue<string>().Length < 400, problem["detail"]!.GetValue<string>());

        // Many problems in allowed lists: the detail names a few and counts the rest.
        var targets = string.Join(",", Enumerable.Range(0, 20).Select(i => $"{{\"path\": \"/img/{i}.qcow2\", \"target\": \"vda\", \"bus\": \"floppy\"}}"));
        var counted = await Refused(HttpMethod.Post, "/v1/vms", $"{{\"name\": \"many\", \"vcpus\": 1, \"memory\": \"1GiB\", \"disks\": [{targets}]}}", 400);
        Assert.Matches("and [0-9]+ more problem\\(s\\)$", counted["detail"]!.GetValue<string>());
        Assert.True(counted["errorCount"]!.GetValue<int>() > 20);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413()
    {
        var huge = $"{{\"name\": \"x\", \"vcpus\": 1, \"memory\": \"1GiB\", \"padding\": \"{new string('x', 2 * 1024 * 1024)}\"}}";
        var problem = await Refused(HttpMethod.Post, "/v1/vms", huge, 413);
        Assert.Contains("virt.api.max-body", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("POST", "/v1/vms/web-1/stop?force=maybe", 400, "force: 'maybe' is not true or false")]
    [InlineData("DELETE", "/v1/vms/web-1?force=2", 400, "force: '2' is not true or false")]
    [InlineData("GET", "/v1/events?limit=abc", 400, "limit: 'abc' is not a whole number")]
    [InlineData("GET", "/v1/events?after=-1", 400, "after: '-1' is not a whole number")]
    [InlineData("POST", "/v1/vms/web-1/frobnicate", 404, "there is no POST /v1/vms/web-1/frobnicate")]
    [InlineData("GET", "/v1/nothing-here", 404, "there is no GET /v1/nothing-here")]
    [InlineData("PATCH", "/v1/vms", 405, "does not take PATCH")]
    [InlineData("PATCH", "/v1/vms/web-1", 400, "body: not valid JSON")]
    public async Task Every_error_is_problem_json_that_says_what_is_wrong(string method, string path, int status, string detail)
    {
        var problem = await Refused(new HttpMethod(method), path, null, status);
        Assert.Contains(detail, problem["detail"]!.GetValue<string>());
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
    public async Task Changing_the_uuid_of_a_running_vm_is_a_409_with_the_state()
    {
        await _node.Post("/v1/vms/web-1/start", expect: 202);
        await _node.WaitForState("web-1", "running");
        var problem = await Refused(HttpMethod.Put, "/v1/vms/web-1", new { vcpus = 4, memory = "2GiB", uuid = Guid.NewGuid().ToString() }, 409);
        Assert.Equal("running", problem["state"]!.GetValue<string>());
        Assert.Equal("the uuid of a VM cannot change", problem["reason"]!.GetValue<string>());
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
