using System.Text.Json.Nodes;
using Akka.Actor;
using Virt.Actors.Vm;
using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>
/// Changing a VM's spec through the API (PATCH, PUT, GET .../spec) on a whole node over libvirt's test driver: the
/// size of a running VM changes in libvirt at its next start, not before; the balancer admits the new size; a bad
/// change is a 400 that names the field and changes nothing; a change survives a restart of the node.
/// </summary>
public sealed class SpecChangeTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-spec");
    private readonly SimulatedHost _host = new(cpus: 8, memoryMiB: 16384);
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

    /// <summary>What libvirt itself has for the domain (through this host's agent: the test driver's state lives in the node's process).</summary>
    private async Task<DomainDetails> Libvirt(string name) =>
        await _node.Agent.Ask<DomainDetails>(new ReadDomain(name, _node.Incarnation), TimeSpan.FromSeconds(10));

    private Task<JsonNode> Patch(string name, object body, int expect) => _node.Json(HttpMethod.Patch, $"/v1/vms/{name}", body, expect);

    [Fact]
    public async Task A_running_vm_gets_its_new_size_in_libvirt_at_its_next_start_and_not_before()
    {
        await _node.Post("/v1/vms", new { name = "web-1", vcpus = 2, memory = "1GiB" }, expect: 201);
        await _node.Post("/v1/vms/web-1/start", expect: 202);
        await _node.WaitForState("web-1", "running");
        Assert.Equal((2, 1024L), ((await Libvirt("web-1")).Vcpus, (await Libvirt("web-1")).MemoryMib));

        var changed = await Patch("web-1", new { vcpus = 4, memory = "2GiB", priority = 5, labels = new { app = "web" } }, expect: 202);
        Assert.Equal(("running", 2, 1024L, 5), (changed["state"]!.GetValue<string>(), changed["vcpus"]!.GetValue<int>(), changed["memoryMib"]!.GetValue<long>(), changed["priority"]!.GetValue<int>()));
        Assert.Equal((4, 2048L), (changed["pending"]!["vcpus"]!.GetValue<int>(), changed["pending"]!["memoryMib"]!.GetValue<long>()));
        Assert.Equal("web", changed["labels"]!["app"]!.GetValue<string>());
        var domain = await Libvirt("web-1");
        Assert.Equal((true, 2, 1024L), (domain.Running, domain.Vcpus, domain.MemoryMib)); // the running domain is untouched

        var spec = await _node.Get("/v1/vms/web-1/spec"); // what it will start with
        Assert.Equal((4, 2048L), (spec["vcpus"]!.GetValue<int>(), spec["memoryMib"]!.GetValue<long>()));

        await _node.Post("/v1/vms/web-1/restart", expect: 202);
        var restarted = await _node.WaitFor("web-1", v => v["state"]!.GetValue<string>() == "running" && v["pending"] is null, "running with its new spec");
        Assert.Equal((4, 2048L), (restarted["vcpus"]!.GetValue<int>(), restarted["memoryMib"]!.GetValue<long>()));
        domain = await Libvirt("web-1");
        Assert.Equal((true, 4, 2048L), (domain.Running, domain.Vcpus, domain.MemoryMib));
    }

    [Fact]
    public async Task The_balancer_admits_the_new_size_at_the_next_start()
    {
        await _node.Post("/v1/vms", new { name = "big", vcpus = 2, memory = "4GiB" }, expect: 201);
        await _node.Post("/v1/vms/big/start", expect: 202);
        await _node.WaitForState("big", "running");
        await Patch("big", new { memory = "64GiB" }, expect: 202); // more than the host has: accepted as a spec...
        Assert.True((await Libvirt("big")).Running);

        await _node.Post("/v1/vms/big/stop?force=true", expect: 202);
        await _node.WaitForState("big", "stopped");
        var refused = await _node.Post("/v1/vms/big/start", expect: 409); // ...and refused where it counts: at admission
        Assert.Contains("memory needs 65536 MiB", refused["detail"]!.GetValue<string>());
        Assert.False((await Libvirt("big")).Running);
    }

    [Fact]
    public async Task A_bad_change_is_a_400_naming_the_field_and_changes_nothing()
    {
        await _node.Post("/v1/vms", new { name = "db-1", vcpus = 2, memory = "1GiB" }, expect: 201);
        var before = await _node.Get("/v1/vms/db-1/spec");

        var problem = await Patch("db-1", new { memroy = "2GiB" }, expect: 400);
        Assert.Contains("memroy: unknown field; did you mean 'memory'?", problem["detail"]!.GetValue<string>());
        problem = await Patch("db-1", new { vcpus = 0, labels = new { app = "no spaces" } }, expect: 400);
        Assert.Contains("vcpus: must be between 1 and 4096, not 0", problem["detail"]!.GetValue<string>());
        Assert.Contains("labels.app: 'no spaces' is not a label value", problem["detail"]!.GetValue<string>());
        problem = await Patch("db-1", new { uuid = Guid.NewGuid().ToString() }, expect: 409);
        Assert.Contains("the uuid of a VM cannot change", problem["detail"]!.GetValue<string>());
        await _node.Json(HttpMethod.Patch, "/v1/vms/ghost", new { vcpus = 2 }, expect: 404);

        Assert.Equal(before.ToJsonString(), (await _node.Get("/v1/vms/db-1/spec")).ToJsonString());
    }

    [Fact]
    public async Task The_spec_document_goes_back_through_put_and_a_change_survives_a_restart()
    {
        await _node.Post("/v1/vms", new { name = "app-1", vcpus = 1, memory = "512MiB", stopTimeout = "30s", disks = new[] { new { path = "/var/lib/images/app-1.qcow2" } } }, expect: 201);
        var spec = (await _node.Get("/v1/vms/app-1/spec")).AsObject();
        Assert.Equal(200, (int)(await _node.Http.PutAsync("/v1/vms/app-1", new StringContent(spec.ToJsonString(), System.Text.Encoding.UTF8, "application/json"))).StatusCode); // unchanged: nothing stored
        spec["vcpus"] = 3;
        spec["labels"] = new JsonObject { ["tier"] = "front" };
        await _node.Json(HttpMethod.Put, "/v1/vms/app-1", spec.ToJsonString(), expect: 202);
        await Patch("app-1", new Dictionary<string, object?> { ["labels"] = new Dictionary<string, object?> { ["tier"] = null, ["app"] = "shop" } }, expect: 202);

        await _node.Stop();
        await _node.Start();
        var after = await _node.Get("/v1/vms/app-1/spec");
        Assert.Equal((3, "30s", "/var/lib/images/app-1.qcow2"), (after["vcpus"]!.GetValue<int>(), after["stopTimeout"]!.GetValue<string>(), after["disks"]![0]!["path"]!.GetValue<string>()));
        Assert.Equal("""{"app":"shop"}""", after["labels"]!.ToJsonString());
    }

    private async Task<(int Status, JsonNode Body, string? ETag)> Send(HttpMethod method, string path, object? body, string? ifMatch)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body as string ?? System.Text.Json.JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
        if (ifMatch is not null)
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        using var response = await _node.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!, response.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task A_change_with_if_match_is_made_only_on_the_version_it_names_and_a_stale_one_is_412_with_the_spec_as_it_is()
    {
        await _node.Post("/v1/vms", new { name = "api-1", vcpus = 1, memory = "512MiB" }, expect: 201);
        var (_, spec, read) = await Send(HttpMethod.Get, "/v1/vms/api-1/spec", null, null);
        Assert.Matches("^\"[0-9a-f]{16}\"$", read);

        // Someone else changes it (no If-Match: as before), which gives the spec a new version.
        var (status, _, after) = await Send(HttpMethod.Patch, "/v1/vms/api-1", new { memory = "1GiB" }, null);
        Assert.Equal(202, status);
        Assert.NotEqual(read, after);
        Assert.Equal(after, (await Send(HttpMethod.Get, "/v1/vms/api-1/spec", null, null)).ETag);

        // A PUT and a PATCH made on the version read before are refused, and nothing changes.
        spec["vcpus"] = 4;
        var (refused, problem, _) = await Send(HttpMethod.Put, "/v1/vms/api-1", spec.ToJsonString(), read);
        Assert.Equal(412, refused);
        Assert.Equal($"VM api-1: its spec changed since you read it (you sent If-Match {read}, it is now {after}); nothing was changed. Read it again (GET /v1/vms/api-1/spec, or 'virt vm edit api-1') and make your change on the spec as it is now", problem["detail"]!.GetValue<string>());
        Assert.Equal((after, 1024L), (problem["etag"]!.GetValue<string>(), problem["spec"]!["memoryMib"]!.GetValue<long>()));
        (refused, _, _) = await Send(HttpMethod.Patch, "/v1/vms/api-1", new { vcpus = 4 }, read);
        Assert.Equal(412, refused);
        (refused, _, _) = await Send(HttpMethod.Patch, "/v1/vms/api-1", new { vcpus = 4 }, "W/" + after); // If-Match compares strongly
        Assert.Equal(412, refused);
        var now = await _node.Get("/v1/vms/api-1/spec");
        Assert.Equal((1, 1024L), (now["vcpus"]!.GetValue<int>(), now["memoryMib"]!.GetValue<long>()));

        // Made on the version it is now, it is done, and the answer gives the new version.
        (status, _, var next) = await Send(HttpMethod.Patch, "/v1/vms/api-1", new { vcpus = 4 }, after);
        Assert.Equal(202, status);
        Assert.Equal(next, (await Send(HttpMethod.Get, "/v1/vms/api-1/spec", null, null)).ETag);
        (status, _, _) = await Send(HttpMethod.Patch, "/v1/vms/api-1", new { priority = 2 }, "*");
        Assert.Equal(202, status);
        var (bad, badProblem, _) = await Send(HttpMethod.Patch, "/v1/vms/api-1", new { priority = 3 }, "not-a-tag");
        Assert.Equal(400, bad);
        Assert.Contains("If-Match: 'not-a-tag' is not an entity tag", badProblem["detail"]!.GetValue<string>());
        now = await _node.Get("/v1/vms/api-1/spec");
        Assert.Equal((4, 1024L, 2), (now["vcpus"]!.GetValue<int>(), now["memoryMib"]!.GetValue<long>(), now["priority"]!.GetValue<int>()));
    }
}
