using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>
/// A start that does not fit the host is refused with the placement engine's reason, in the words <c>virt plan</c>
/// uses for the same picture, and nothing reaches libvirt. Overcommit is per dimension (virt.balancer.overcommit).
/// </summary>
public sealed class AdmissionTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-node");
    private readonly SimulatedHost _host = new(cpus: 4, memoryMiB: 8192);
    private InProcessNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = new InProcessNode(_dir.Path, _host.Uri, "virt.balancer.overcommit.vcpu=2.0");
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _host.Dispose();
        _dir.Dispose();
    }

    private async Task Create(string name, int vcpus, string memory) =>
        await _node.Post("/v1/vms", new { name, vcpus, memory }, expect: 201);

    private async Task<JsonNode> Refused(string name)
    {
        var problem = await _node.Post($"/v1/vms/{name}/start", expect: 409);
        Assert.Equal("stopped", (await _node.Get($"/v1/vms/{name}"))["state"]!.GetValue<string>());
        Assert.DoesNotContain(await _node.Domains(), d => d.Name == name); // never defined in libvirt
        return problem;
    }

    [Fact]
    public async Task Memory_is_never_overcommitted_and_the_refusal_reads_as_virt_plan_says_it()
    {
        await Create("a", 1, "2GiB");
        await _node.Post("/v1/vms/a/start", expect: 202);
        await _node.WaitForState("a", "running");
        await Create("big", 1, "8GiB");

        var problem = await Refused("big");
        var reason = problem["reason"]!.GetValue<string>();
        Assert.Equal("no host can run it: test-node: memory needs 8192 MiB, 6144 free", reason);
        Assert.Contains(reason, (await _node.Get("/v1/vms/big"))["lastError"]!.GetValue<string>());

        // The same picture as a scenario: virt plan gives the same words.
        using var scenario = new TempDirectory();
        File.WriteAllText(scenario.File("s.json"), """
            { "overcommit": {"vcpu": 2.0},
              "nodes": [{"name": "test-node", "capacity": {"vcpu": 4, "memory_mib": 8192}}],
              "vms": [{"name": "a", "demand": {"vcpu": 1, "memory_mib": 2048}, "node": "test-node"},
                      {"name": "big", "demand": {"vcpu": 1, "memory_mib": 8192}}],
              "action": {"kind": "place"} }
            """);
        var (exit, stdout, stderr) = await VirtCli.Run([], "plan", scenario.File("s.json"), "--json");
        Assert.True(exit == 0, stderr);
        var planned = JsonNode.Parse(stdout)!["unplaced"]!.AsArray().Single()!["reasons"]!["test-node"]!.GetValue<string>();
        Assert.Equal($"no host can run it: test-node: {planned}", reason);
    }

    [Fact]
    public async Task Vcpus_overcommit_as_configured_and_no_further()
    {
        for (var i = 0; i < 4; i++)
        {
            await Create($"vm{i}", 2, "256MiB");
            await _node.Post($"/v1/vms/vm{i}/start", expect: 202); // 8 vCPUs on 4 CPUs at 2.0: fits
        }

        await Create("one-more", 1, "256MiB");
        var problem = await Refused("one-more");
        Assert.Equal("no host can run it: test-node: vcpu needs 1, 0 free", problem["reason"]!.GetValue<string>());

        // Capacity freed by a stop is there for the next start.
        await _node.Post("/v1/vms/vm0/stop?force=true", expect: 202);
        await _node.WaitForState("vm0", "stopped");
        await Eventually.Until(async () => (await _node.Http.PostAsync("/v1/vms/one-more/start", null)).StatusCode == System.Net.HttpStatusCode.Accepted, "one-more starts once vm0 stopped");
        await _node.WaitForState("one-more", "running");
        Assert.True(await _node.RunsInLibvirt("one-more"));
    }

    [Fact]
    public async Task Concurrent_starts_never_exceed_the_host_together()
    {
        for (var i = 0; i < 12; i++)
            await Create($"c{i}", 1, "1GiB");
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => _node.Http.PostAsync($"/v1/vms/c{i}/start", null)));
        Assert.Equal(8, answers.Count(a => a.StatusCode == System.Net.HttpStatusCode.Accepted)); // 8 GiB, 1 GiB each
        Assert.Equal(4, answers.Count(a => a.StatusCode == System.Net.HttpStatusCode.Conflict));
        await Eventually.Until(async () => (await _node.Domains()).Count(d => d.State == "running") == 8, "8 VMs run in libvirt");
        Assert.Equal(8, (await _node.Domains()).Count(d => d.State == "running"));
    }
}
