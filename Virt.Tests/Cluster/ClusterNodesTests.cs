using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

/// <summary>
/// Three real virt-node processes on loopback, one cluster on one PostgreSQL journal: any node serves any VM, names
/// are unique, the balancer places across hosts within their capacity, and losing a node moves its entities without
/// touching a VM that runs on another host (read from that host's libvirt).
/// </summary>
public sealed class ClusterNodesTests : IAsyncLifetime
{
    private NodeCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var postgres = await (await PostgresServer.Shared).CreateDatabase("cluster");
        // hv-3's host is too small for any VM of these tests: it holds entities (shards) but never a domain.
        _cluster = await NodeCluster.Start(postgres, [(8, 8192), (8, 8192), (1, 64)], i => [$"virt.node.attributes.rack=r{i + 1}"]);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static StringContent Json(object body) => new(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private static async Task<JsonNode> Send(VirtNodeProcess node, HttpMethod method, string path, object? body, HttpStatusCode expect)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
        using var response = await node.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expect, $"{method} {path} on {node.Address}: expected {(int)expect}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    private static Task<JsonNode> WaitForState(VirtNodeProcess node, string vm, string state) =>
        Eventually.Until(() => node.Get($"/v1/vms/{vm}"), v => v["state"]!.GetValue<string>() == state, $"{vm} is {state} (asked on {node.Address})", 60);

    /// <summary>Running domains of one host, read from its libvirt: name to libvirt id (a new id at every start).</summary>
    private static async Task<Dictionary<string, int>> Running(VirtNodeProcess node) =>
        (await node.Get("/v1/node"))["domains"]!.AsArray().Where(d => d!["state"]!.GetValue<string>() == "running")
        .ToDictionary(d => d!["name"]!.GetValue<string>(), d => d!["id"]!.GetValue<int>());

    [Fact]
    public async Task A_vm_created_on_one_node_is_shown_started_stopped_and_deleted_from_the_others_and_its_name_is_taken_everywhere()
    {
        var created = await Send(_cluster[0], HttpMethod.Post, "/v1/vms", new { name = "web-1", vcpus = 1, memory = "1GiB" }, HttpStatusCode.Created);
        var uuid = created["uuid"]!.GetValue<string>();
        foreach (var node in _cluster.Nodes)
        {
            var shown = await node.Get("/v1/vms/web-1");
            Assert.Equal(uuid, shown["uuid"]!.GetValue<string>());
            Assert.StartsWith("hv-", shown["entityNode"]!.GetValue<string>()); // where the entity lives, the same from every node
        }

        await Send(_cluster[2], HttpMethod.Post, "/v1/vms", new { name = "web-1", vcpus = 2, memory = "2GiB" }, HttpStatusCode.Conflict);

        await Send(_cluster[1], HttpMethod.Post, "/v1/vms/web-1/start", null, HttpStatusCode.Accepted);
        var running = await WaitForState(_cluster[2], "web-1", "running");
        var host = running["node"]!.GetValue<string>();
        var hostIndex = int.Parse(host["hv-".Length..]) - 1;
        Assert.Contains("web-1", (await Running(_cluster[hostIndex])).Keys);
        foreach (var node in _cluster.Nodes)
        {
            var listed = await Eventually.Until(() => node.Get("/v1/vms"), l => l.AsArray().Any(v => v!["state"]!.GetValue<string>() == "running"), "the list shows web-1 running", 30);
            Assert.Equal(host, listed.AsArray().Single()!["node"]!.GetValue<string>());
        }

        await Send(_cluster[2], HttpMethod.Post, "/v1/vms/web-1/stop?force=true", null, HttpStatusCode.Accepted);
        await WaitForState(_cluster[0], "web-1", "stopped");
        Assert.DoesNotContain("web-1", (await Running(_cluster[hostIndex])).Keys);
        await Send(_cluster[0], HttpMethod.Delete, "/v1/vms/web-1", null, HttpStatusCode.NoContent);
        foreach (var node in _cluster.Nodes)
            await Send(node, HttpMethod.Get, "/v1/vms/web-1", null, HttpStatusCode.NotFound);
    }

    private static async Task<JsonNode> AddRule(VirtNodeProcess node, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/rules") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await node.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"adding {json}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Starts_without_a_node_land_within_every_hosts_capacity_honour_the_rules_and_one_that_fits_nowhere_is_refused_with_the_reasons()
    {
        // The web VMs only in rack r1 (hv-1); two databases never on one host.
        await AddRule(_cluster[1], """{"name": "web-on-r1", "kind": "location", "vms": ["vm00", "vm01", "vm02", "vm03", "vm04", "vm05", "vm06", "vm07", "vm08", "vm09"], "score": "INFINITY", "expr": {"attribute": "rack", "op": "eq", "value": "r1"}}""");
        await AddRule(_cluster[2], """{"name": "db-apart", "kind": "colocation", "vms": ["vm10", "vm11"], "score": "-INFINITY"}""");
        var listed = (await _cluster[0].Get("/v1/rules")).AsArray().Select(r => r!["name"]!.GetValue<string>());
        Assert.Equal(["db-apart", "web-on-r1"], listed);

        // 2 x 8 CPUs x 4.0 overcommit = 64 vCPUs, 2 x 8 GiB: thirty 1-vCPU 512 MiB VMs fit, spread over hv-1 and hv-2.
        for (var i = 0; i < 30; i++)
            await Send(_cluster[i % 3], HttpMethod.Post, "/v1/vms", new { name = $"vm{i:00}", vcpus = 1, memory = "512MiB" }, HttpStatusCode.Created);
        await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Send(_cluster[(i + 1) % 3], HttpMethod.Post, $"/v1/vms/vm{i:00}/start", null, HttpStatusCode.Accepted)));
        await Eventually.Until(async () => (await Running(_cluster[0])).Count + (await Running(_cluster[1])).Count == 30, "30 domains run", 60);
        var hv1 = await Running(_cluster[0]);
        var hv2 = await Running(_cluster[1]);
        Assert.Empty(await Running(_cluster[2]));
        Assert.All(new[] { hv1.Count, hv2.Count }, n => Assert.InRange(n, 10, 16)); // 16 x 512 MiB = 8 GiB per host
        Assert.All(Enumerable.Range(0, 10), i => Assert.Contains($"vm{i:00}", hv1.Keys)); // the location rule, read from libvirt
        Assert.True(hv1.ContainsKey("vm10") != hv1.ContainsKey("vm11") && hv2.ContainsKey("vm10") != hv2.ContainsKey("vm11"), "db-apart: vm10 and vm11 on different hosts");

        // A rule that running VMs already break is taken, and says so; the engine explains a VM's placement.
        var breaking = await AddRule(_cluster[0], """{"name": "vm00-on-r2", "kind": "location", "vms": ["vm00"], "score": "INFINITY", "expr": {"attribute": "rack", "op": "eq", "value": "r2"}}""");
        Assert.StartsWith("vm00 on hv-1 breaks it", Assert.Single(breaking["warnings"]!.AsArray())!.GetValue<string>());
        var (exit, why, _) = await Virt(2, "vm", "why", "vm00");
        Assert.Equal(0, exit);
        Assert.StartsWith("vm00 runs on hv-1.", why);
        Assert.Contains("rule web-on-r1", why);
        var (removed, _, _) = await Virt(1, "rule", "remove", "vm00-on-r2");
        Assert.Equal(0, removed);

        await Send(_cluster[0], HttpMethod.Post, "/v1/vms", new { name = "huge", vcpus = 1, memory = "7GiB" }, HttpStatusCode.Created);
        var refused = await Send(_cluster[2], HttpMethod.Post, "/v1/vms/huge/start", null, HttpStatusCode.Conflict);
        var reason = refused["reason"]!.GetValue<string>();
        Assert.StartsWith("no host can run it: ", reason);
        Assert.Contains("hv-1: memory needs 7168 MiB", reason);
        Assert.Contains("hv-2: memory needs 7168 MiB", reason);
        Assert.Contains("hv-3: memory needs 7168 MiB, 64 free", reason);

        // One engine, two front ends: the balancer's picture exported as a scenario plans the same with virt plan.
        await Send(_cluster[0], HttpMethod.Post, "/v1/vms", new { name = "next", vcpus = 1, memory = "256MiB" }, HttpStatusCode.Created);
        var (explained, nextWhy, whyErr) = await Virt(1, "vm", "why", "next"); // just created elsewhere: the VM itself is asked
        Assert.True(explained == 0, whyErr);
        Assert.StartsWith("next is stopped. Started now, it would go to hv-", nextWhy);
        var (unknown, _, unknownErr) = await Virt(1, "vm", "why", "ghost");
        Assert.Equal(1, unknown);
        Assert.Contains("no VM named 'ghost'", unknownErr);
        using var dir = new TempDirectory();
        var (snapshotted, scenario, err) = await Virt(1, "cluster", "snapshot", "--pending", "next");
        Assert.True(snapshotted == 0, err);
        File.WriteAllText(dir.File("s.json"), scenario);
        var (planned, plan, planErr) = await VirtCli.Run([], "plan", dir.File("s.json"), "--json");
        Assert.True(planned == 0, planErr);
        var expected = JsonNode.Parse(plan)!["decisions"]!.AsArray().Single(d => d!["vm"]!.GetValue<string>() == "next")!["to"]!.GetValue<string>();
        await Send(_cluster[2], HttpMethod.Post, "/v1/vms/next/start", null, HttpStatusCode.Accepted);
        Assert.Equal(expected, (await WaitForState(_cluster[0], "next", "running"))["node"]!.GetValue<string>());
    }

    [Fact]
    public async Task Kill_9_of_a_node_with_entities_but_no_domains_moves_its_entities_and_no_vm_on_another_host_is_touched()
    {
        for (var i = 0; i < 16; i++)
        {
            await Send(_cluster[0], HttpMethod.Post, "/v1/vms", new { name = $"k{i:00}", vcpus = 1, memory = "256MiB" }, HttpStatusCode.Created);
            await Send(_cluster[0], HttpMethod.Post, $"/v1/vms/k{i:00}/start", null, HttpStatusCode.Accepted);
        }

        await Eventually.Until(async () => (await Running(_cluster[0])).Count + (await Running(_cluster[1])).Count == 16, "16 domains run", 60);
        var before = (await Running(_cluster[0])).Concat(await Running(_cluster[1])).ToDictionary();
        var views = await Task.WhenAll(before.Keys.Select(vm => _cluster[0].Get($"/v1/vms/{vm}")));
        var onHv3 = views.Where(v => v["entityNode"]!.GetValue<string>() == "hv-3").Select(v => v["name"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(onHv3); // with 100 shards over three nodes, some of the 16 entities live on hv-3

        _cluster[2].Kill();

        // Its entities come back on the survivors (after the split brain resolver downs hv-3), from the shared journal.
        foreach (var vm in onHv3)
        {
            var moved = await Eventually.Until(async () =>
            {
                var response = await _cluster[0].Http.GetAsync($"/v1/vms/{vm}");
                return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync())! : null;
            }, v => v?["entityNode"]?.GetValue<string>() is "hv-1" or "hv-2", $"{vm}'s entity lives on a survivor", 60);
            Assert.Equal("running", moved!["state"]!.GetValue<string>());
            Assert.Equal(0, moved["restartsInWindow"]!.GetValue<int>());
        }

        // Read from the hosts' libvirt: every domain still runs with the same id, none was stopped or started again.
        var after = (await Running(_cluster[0])).Concat(await Running(_cluster[1])).ToDictionary();
        Assert.Equal(before.OrderBy(x => x.Key), after.OrderBy(x => x.Key));
    }

    [Fact]
    public async Task Kill_9_of_a_host_no_level_can_fence_leaves_its_vms_recovering_with_the_reason_until_the_operator_confirms_then_they_start_elsewhere()
    {
        foreach (var (vm, node) in new[] { ("lost-1", "hv-2"), ("lost-2", "hv-2"), ("lost-3", "hv-2"), ("stays", "hv-1") })
        {
            await Send(_cluster[0], HttpMethod.Post, "/v1/vms", new { name = vm, vcpus = 1, memory = "256MiB" }, HttpStatusCode.Created);
            await Send(_cluster[0], HttpMethod.Post, $"/v1/vms/{vm}/start?node={node}", null, HttpStatusCode.Accepted);
        }

        await Eventually.Until(async () => (await Running(_cluster[1])).Count == 3 && (await Running(_cluster[0])).Count == 1, "three domains run on hv-2, one on hv-1", 60);
        var before = await Running(_cluster[0]);

        _cluster[1].Kill();

        // Downed and removed: each of its VMs waits for a fence, wherever its entity lives, and says why it cannot
        // have one: this cluster has the default levels (power, watchdog) and neither is set up for hv-2.
        foreach (var vm in new[] { "lost-1", "lost-2", "lost-3" })
        {
            var waiting = await Eventually.Until(async () =>
            {
                var response = await _cluster[0].Http.GetAsync($"/v1/vms/{vm}");
                return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync())! : null;
            }, v => v?["state"]?.GetValue<string>() == "recovering" && v["lastError"]?.GetValue<string>() is { } reason
                    && reason.StartsWith("waiting for fence of hv-2: ", StringComparison.Ordinal) && !reason.EndsWith("the fence is under way", StringComparison.Ordinal),
                $"{vm} is recovering, waiting for the fence of hv-2 after its levels were tried", 60);
            Assert.Contains("no power fence agent is configured for hv-2", waiting!["lastError"]!.GetValue<string>());
            Assert.Contains("hv-2 had no armed watchdog", waiting["lastError"]!.GetValue<string>());
            Assert.Equal("hv-2", waiting["awaitingFence"]!.GetValue<string>()); // where it may still run until fenced
        }

        // Read from the survivors' libvirt: none of them was started there, and the VM of hv-1 was not touched.
        Assert.Equal(before, await Running(_cluster[0]));
        Assert.Empty(await Running(_cluster[2]));
        var stays = await _cluster[2].Get("/v1/vms/stays");
        Assert.Equal("running", stays["state"]!.GetValue<string>());
        var pending = (await _cluster[2].Get("/v1/fences"))["fences"]!.AsArray().Single(f => f!["host"]!.GetValue<string>() == "hv-2")!;
        Assert.Equal("pending", pending["state"]!.GetValue<string>());

        // The operator vouches that hv-2 is off: its VMs start on the one host with room (hv-1), by libvirt's word.
        var member = await Virt(0, "node", "confirm-fenced", "hv-1");
        Assert.Equal(1, member.Exit); // a member is never confirmed fenced
        Assert.Contains("is a member of the cluster", member.Err);
        var (exit, output, error) = await Virt(0, "node", "confirm-fenced", "hv-2");
        Assert.True(exit == 0, error);
        Assert.Contains("they now run twice", output);
        await Eventually.Until(() => Running(_cluster[0]), r => new[] { "lost-1", "lost-2", "lost-3", "stays" }.All(r.ContainsKey), "the lost VMs run on hv-1", 60);
        Assert.Equal(before["stays"], (await Running(_cluster[0]))["stays"]); // the VM that was there was not restarted
        var fenced = (await _cluster[2].Get("/v1/fences"))["fences"]!.AsArray().Single(f => f!["host"]!.GetValue<string>() == "hv-2")!;
        Assert.Equal(("fenced", "operator"), (fenced["state"]!.GetValue<string>(), fenced["level"]!.GetValue<string>()));
    }

    private Task<(int Exit, string Out, string Err)> Virt(int node, params string[] args) => VirtCli.Against(_cluster[node].Address, args);

    [Fact]
    public async Task Status_shows_members_singletons_shards_and_hosts_pins_hold_and_a_node_leaves_only_when_no_vm_runs_there()
    {
        for (var i = 0; i < 4; i++)
        {
            await Send(_cluster[0], HttpMethod.Post, "/v1/vms", new { name = $"p{i}", vcpus = 1, memory = "512MiB" }, HttpStatusCode.Created);
            var pin = i < 2 ? "hv-1" : "hv-2";
            var (exit, _, err) = await Virt(2, "vm", "start", $"p{i}", "--node", pin, "--wait");
            Assert.True(exit == 0, err);
            Assert.Equal(pin, (await _cluster[1].Get($"/v1/vms/p{i}"))["node"]!.GetValue<string>());
            Assert.Contains($"p{i}", (await Running(_cluster[i < 2 ? 0 : 1])).Keys);
        }

        var tooSmall = await Send(_cluster[0], HttpMethod.Post, "/v1/vms/p0/stop?force=true", null, HttpStatusCode.Accepted);
        await WaitForState(_cluster[0], "p0", "stopped");
        var refused = await Send(_cluster[1], HttpMethod.Post, "/v1/vms/p0/start?node=hv-3", null, HttpStatusCode.Conflict);
        Assert.Equal("no host can run it: hv-3: memory needs 512 MiB, 64 free", refused["reason"]!.GetValue<string>()); // only the pinned host's reason
        refused = await Send(_cluster[1], HttpMethod.Post, "/v1/vms/p0/start?node=hv-9", null, HttpStatusCode.Conflict);
        Assert.StartsWith("no host can run it: hv-9: not a host of this cluster", refused["reason"]!.GetValue<string>());

        var (code, stdout, stderr) = await Virt(2, "cluster", "status", "--json");
        Assert.True(code == 0, stderr);
        var status = JsonNode.Parse(stdout)!;
        Assert.Equal(["up", "up", "up"], status["members"]!.AsArray().Select(m => m!["status"]!.GetValue<string>()));
        Assert.Equal(4, status["members"]!.AsArray().Sum(m => m!["entities"]!.GetValue<int>()));
        Assert.NotNull(status["singletons"]!["balancer"]);
        var hosts = status["hosts"]!.AsArray().ToDictionary(h => h!["name"]!.GetValue<string>());
        Assert.Equal(["p1"], hosts["hv-1"]!["vms"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["p2", "p3"], hosts["hv-2"]!["vms"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal((2, 1024L), (hosts["hv-2"]!["usedVcpus"]!.GetValue<int>(), hosts["hv-2"]!["usedMemoryMib"]!.GetValue<long>()));
        (code, stdout, _) = await Virt(0, "cluster", "status");
        Assert.Matches(@"hv-2\s+up\s+2/8\s+1024/8192 MiB\s+p2 p3", stdout);

        // Where the entities live, per member: each VM's own entity node is a region holding entities, and the four add up.
        var sharding = await _cluster[1].Get("/v1/sharding");
        var regions = sharding["regions"]!.AsArray().ToDictionary(r => r!["node"]!.GetValue<string>(), r => r!["entities"]!.GetValue<int>());
        Assert.Equal(4, regions.Values.Sum());
        foreach (var vm in new[] { "p0", "p1", "p2", "p3" })
            Assert.True(regions[(await _cluster[1].Get($"/v1/vms/{vm}"))["entityNode"]!.GetValue<string>()] >= 1, $"{vm}'s entity node holds no entity");
        Assert.Equal(4, sharding["shards"]!.AsArray().Sum(s => s!["entities"]!.GetValue<int>()));
        (code, stdout, _) = await Virt(2, "sharding", "show");
        Assert.Equal(0, code);
        Assert.Matches(@"NODE\s+ADDRESS\s+SHARDS\s+ENTITIES", stdout);

        (code, stdout, _) = await Virt(0, "cluster", "down-unreachable");
        Assert.Equal(0, code);
        Assert.Contains("no member is unreachable; nothing was downed", stdout);

        (code, _, stderr) = await Virt(0, "node", "leave", "hv-2");
        Assert.Equal(1, code);
        Assert.Contains("hv-2 runs 2 VM(s) (p2, p3)", stderr + stdout);

        (code, stdout, stderr) = await Virt(0, "node", "leave", "hv-3");
        Assert.True(code == 0, stderr);
        await Eventually.Until(async () => (await _cluster[0].Get("/v1/cluster"))["members"]!.AsArray().All(m => m!["name"]!.GetValue<string>() != "hv-3"), "hv-3 has left", 60);
        foreach (var vm in new[] { "p0", "p1", "p2", "p3" })
        {
            var shown = await Eventually.Until(async () =>
            {
                var response = await _cluster[0].Http.GetAsync($"/v1/vms/{vm}");
                return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync()) : null;
            }, v => v?["entityNode"]?.GetValue<string>() is "hv-1" or "hv-2", $"{vm}'s entity is on a member", 60);
            Assert.Equal(vm == "p0" ? "stopped" : "running", shown!["state"]!.GetValue<string>());
        }

        // Marked down by hand (a hung host): its process ends, its VMs wait for a fence, nothing is handed off.
        (code, stdout, stderr) = await Virt(0, "cluster", "down", "hv-2");
        Assert.True(code == 0, stderr);
        Assert.Contains("hv-2 is marked down", stdout);
        await _cluster[1].WaitForExit(TimeSpan.FromSeconds(60));
        foreach (var vm in new[] { "p2", "p3" })
        {
            var waiting = await WaitForState(_cluster[0], vm, "recovering");
            Assert.Contains("waiting for fence", waiting["lastError"]!.GetValue<string>()); // then, with the fencer's reason: "waiting for fence of hv-2: ..."
        }

        Assert.Equal(["p1"], (await Running(_cluster[0])).Keys); // nothing started p2 or p3 on hv-1
    }

    [Fact]
    public async Task When_the_balancers_node_stops_another_takes_over_and_knows_every_placement_and_rule()
    {
        await AddRule(_cluster[0], """{"name": "keep-apart", "kind": "colocation", "vms": ["a", "b"], "score": "-INFINITY"}""");
        var holder = (await _cluster[0].Get("/v1/cluster"))["singletons"]!["balancer"]!.GetValue<string>();
        var holderIndex = int.Parse(holder["hv-".Length..]) - 1;
        var survivors = Enumerable.Range(0, 3).Where(i => i != holderIndex).ToList();

        // Fill hv-1 to 1 GiB free and hv-2 to 2 GiB free (the tiny hv-3 takes none).
        var fillers = new[] { ("f1", "hv-1", "7GiB"), ("f2", "hv-2", "6GiB") };
        foreach (var (name, pin, memory) in fillers)
        {
            await Send(_cluster[survivors[0]], HttpMethod.Post, "/v1/vms", new { name, vcpus = 1, memory }, HttpStatusCode.Created);
            await Send(_cluster[survivors[0]], HttpMethod.Post, $"/v1/vms/{name}/start?node={pin}", null, HttpStatusCode.Accepted);
        }

        foreach (var (name, _, _) in fillers)
            await WaitForState(_cluster[survivors[0]], name, "running");
        var before = new Dictionary<string, int>();
        foreach (var i in survivors)
            foreach (var (vm, id) in await Running(_cluster[i]))
                before[vm] = id;

        Assert.Equal(0, await _cluster[holderIndex].Stop()); // graceful: SIGTERM
        var taken = await Eventually.Until(async () => (await _cluster[survivors[0]].Get("/v1/cluster"))["singletons"]!["balancer"]?.GetValue<string>(),
            h => h is not null && h != holder, "another node holds the balancer", 60);
        Assert.Contains(taken!, survivors.Select(NodeCluster.Name));

        if (holderIndex != 2)
        {
            // The VMs of the stopped node wait for it to come back (it left in order: it is not fenced); nothing starts them elsewhere.
            var lost = fillers.Single(f => f.Item2 == holder).Item1;
            var waiting = await WaitForState(_cluster[survivors[0]], lost, "recovering");
            Assert.Equal($"host {holder} left the cluster; waiting for it to come back or be fenced", waiting["lastError"]!.GetValue<string>());
        }

        // The new balancer rebuilt every placement from the journal: two more 1 GiB VMs fit only where room is left.
        foreach (var name in new[] { "x1", "x2" })
            await Send(_cluster[survivors[1]], HttpMethod.Post, "/v1/vms", new { name, vcpus = 1, memory = "1GiB" }, HttpStatusCode.Created);
        var first = await _cluster[survivors[1]].Http.PostAsync("/v1/vms/x1/start", null);
        var second = await _cluster[survivors[1]].Http.PostAsync("/v1/vms/x2/start", null);
        var expectAccepted = Math.Min(2, survivors.Sum(i => i switch { 0 => 1, 1 => 2, _ => 0 })); // 1 GiB VMs hv-1 and hv-2 still have room for
        Assert.Equal(expectAccepted, new[] { first, second }.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(2 - expectAccepted, new[] { first, second }.Count(r => r.StatusCode == HttpStatusCode.Conflict));

        var rulesNow = (await _cluster[survivors[1]].Get("/v1/rules")).AsArray();
        // From the balancer's journal; on failure, what the survivors logged about the balancer says why.
        Assert.True(rulesNow.Count == 1, $"rules after the takeover: {rulesNow.ToJsonString()}; survivors' balancer log:\n" + string.Join("\n", survivors.SelectMany(i => _cluster[i].Log.Where(l => l.Contains("alancer") || l.Contains("rule")))));
        Assert.Equal("keep-apart", rulesNow[0]!["name"]!.GetValue<string>());
        var after = new Dictionary<string, int>();
        foreach (var i in survivors)
            foreach (var (vm, id) in await Running(_cluster[i]))
                after[vm] = id;
        foreach (var (vm, id) in before)
            Assert.Equal(id, after[vm]); // nothing that ran on a survivor was stopped or started again
    }
}
