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
}
