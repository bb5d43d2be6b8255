using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Fence;

/// <summary>One private libvirtd (QEMU, software emulation) and a tiny guest for the whole class: hv-3 of each test's cluster.</summary>
public sealed class SelfFenceHost : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-selffence");

    public QemuHost Qemu { get; } = new();

    public TinyGuest Guest { get; private set; } = null!;

    public static bool Available => QemuHost.Available && TinyGuest.Available;

    public async Task InitializeAsync()
    {
        if (!Available || OperatingSystem.IsWindows())
            return;
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        Guest = await TinyGuest.Build(_dir.File("guest"));
        await Qemu.Start();
    }

    public async Task DisposeAsync()
    {
        await Qemu.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>A test that needs a real libvirtd with QEMU and a tiny guest; skipped, saying why, where they are missing.</summary>
public sealed class QemuFactAttribute : FactAttribute
{
    public QemuFactAttribute()
    {
        if (!SelfFenceHost.Available)
            Skip = "needs root, libvirtd, qemu-system-x86, busybox-static, cpio and a kernel in /boot (scripts/test installs them)";
    }
}

/// <summary>
/// Self-fence on a real libvirtd with QEMU: three virt-node processes on one PostgreSQL journal, hv-1 and hv-2 on
/// libvirt's test driver, hv-3 on the private libvirtd with two tiny-guest VMs pinned to it and one domain defined
/// there by hand, without Virt's metadata. Every assertion about a domain reads hv-3's libvirtd with virsh. A node
/// the cluster downs destroys Virt's domains (only those) before it exits; a libvirtd restart, an etcd outage and
/// SIGTERM destroy nothing (the same QEMU process, by its libvirt id, runs on).
/// </summary>
public sealed class SelfFenceTests(SelfFenceHost host) : IClassFixture<SelfFenceHost>, IAsyncLifetime
{
    private const string Foreign = "not-virts";
    private NodeCluster? _cluster;
    private EtcdCluster? _etcd;

    private NodeCluster Cluster => _cluster!;

    private VirtNodeProcess Hv3 => Cluster[2];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
        if (_etcd is not null)
            await _etcd.DisposeAsync();
        if (!SelfFenceHost.Available)
            return;
        foreach (var name in Virsh("list", "--all", "--name").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            host.Qemu.Virsh("destroy", name);
            host.Qemu.Virsh("undefine", name);
        }
    }

    [QemuFact]
    public async Task A_downed_node_destroys_Virts_domains_before_it_exits_and_leaves_the_others_running()
    {
        await StartCluster("selffence-down");
        await StartVms("down-1", "down-2");
        var foreign = StartForeign();

        await Send(Cluster[0], "/v1/nodes/hv-3/down", HttpStatusCode.Accepted);
        var exit = await Hv3.WaitForExit(TimeSpan.FromSeconds(60));

        // Read once it has exited: the destroys were done before its actor system ended.
        Assert.Equal(("shut off", "shut off"), (State("down-1"), State("down-2")));
        Assert.Equal(("running", foreign), (State(Foreign), Id(Foreign)));
        Assert.True(exit == 3, $"hv-3 exited {exit}; its last lines:\n{string.Join('\n', Hv3.Output.TakeLast(20))}");
        Assert.Contains(Hv3.Output, l => l.Contains("self-fence destroyed 2 Virt domain(s) (", StringComparison.Ordinal) && l.Contains("down-1") && l.Contains("down-2") && l.Contains("1 other domain(s) untouched"));
        Assert.Contains(Hv3.Output, l => l.Contains("virt-node exits with status 3 (this node was downed by the cluster)", StringComparison.Ordinal));
    }

    [QemuFact]
    public async Task With_self_fence_none_a_downed_node_leaves_its_domains_running_and_says_so()
    {
        await StartCluster("selffence-none", selfFence: "none");
        var ids = await StartVms("none-1", "none-2");

        await Send(Cluster[0], "/v1/nodes/hv-3/down", HttpStatusCode.Accepted);
        Assert.Equal(3, await Hv3.WaitForExit(TimeSpan.FromSeconds(60)));

        Assert.Equal(ids, Ids("none-1", "none-2"));
        Assert.Contains(Hv3.Output, l => l.Contains("self-fence = none: leaves 2 Virt domain(s) running", StringComparison.Ordinal));
    }

    [QemuFact]
    public async Task A_libvirtd_restart_is_no_downing_and_neither_is_SIGTERM_the_domains_run_on()
    {
        await StartCluster("selffence-libvirtd");
        var ids = await StartVms("lv-1", "lv-2");
        var foreign = StartForeign();
        int Reconnects() => Hv3.Log.Count(l => l.Contains($"libvirt {host.Qemu.Uri} connected", StringComparison.Ordinal));
        var connected = Reconnects();

        await host.Qemu.RestartDaemon();
        await Eventually.Until(() => Hv3.Log.Any(l => l.Contains($"libvirt at {host.Qemu.Uri} is unreachable", StringComparison.Ordinal)), "hv-3's agent saw libvirtd go", 30);
        await Eventually.Until(() => Reconnects() > connected, "hv-3's agent is connected to the new libvirtd", 60);

        Assert.Equal(ids, Ids("lv-1", "lv-2")); // the same QEMU processes: nothing was destroyed or started again
        Assert.Equal(foreign, Id(Foreign));
        await AllMembersUp();
        Assert.DoesNotContain(Hv3.Log, IsSelfFence);

        Assert.Equal(0, await Hv3.Stop()); // an orderly stop: it leaves, and fences nothing
        Assert.Equal(ids, Ids("lv-1", "lv-2"));
        Assert.DoesNotContain(Hv3.Output, IsSelfFence);
    }

    [QemuFact]
    public async Task Losing_all_of_etcd_downs_no_node_and_destroys_nothing()
    {
        _etcd = await EtcdCluster.StartAsync();
        var endpoints = "[" + string.Join(",", _etcd.Endpoints.Select(e => $"\"{e}\"")) + "]";
        await StartCluster("selffence-etcd", overrides: $"virt.cluster.etcd.endpoints={endpoints}");
        var ids = await StartVms("etcd-1", "etcd-2");
        await Eventually.Until(() => _etcd.OwnerAsync("/virt/leases/virt-singleton-akka://virt/user/balancer"), o => o is not null, "the balancer holds its lease in etcd", 60);

        for (var member = 0; member < _etcd.Size; member++)
            _etcd.Kill(member);
        var lost = await Eventually.Until(() => Task.FromResult(Cluster.Nodes.SelectMany(n => n.Log).FirstOrDefault(l => l.Contains("no keepalive acknowledged by etcd since", StringComparison.Ordinal))),
            l => l is not null, "a lease holder gives its lease up, etcd being gone", 60);

        // From then on, for the lease TTL (5 s) + the resolver's stable-after (3 s) + a margin (7 s): every node
        // stays a member, up and reachable, none fences itself, and the domains run on in the same QEMU processes.
        await Holds(async () =>
        {
            if (Cluster.Nodes.FirstOrDefault(n => n.Log.Any(IsSelfFence)) is { } fenced)
                return $"a node fenced itself: {fenced.Log.Last(IsSelfFence)}";
            if (Ids("etcd-1", "etcd-2") is var now && now != ids)
                return $"the domains are {now} (were {ids})";
            return await MembersNotUp();
        }, TimeSpan.FromSeconds(15), $"etcd is gone ({lost})");
    }

    /// <summary>The line the shutdown task logs when it starts a self-fence.</summary>
    private static bool IsSelfFence(string line) => line.Contains("it stops acting; self-fence =", StringComparison.Ordinal);

    private async Task StartCluster(string database, string selfFence = "destroy", params string[] overrides)
    {
        var postgres = await (await PostgresServer.Shared).CreateDatabase(database);
        _cluster = await NodeCluster.Start(postgres, [(8, 8192), (8, 8192), (1, 64)],
            i => i == 2 ? [$"virt.libvirt.uri={host.Qemu.Uri}", "virt.libvirt.domain-type=qemu", $"virt.fencing.self-fence={selfFence}"] : [],
            ["virt.vm.start-timeout=60s", .. overrides]);
    }

    /// <summary>Creates two tiny-guest VMs, starts them pinned to hv-3 and waits until QEMU runs them; their libvirt ids.</summary>
    private async Task<string> StartVms(string first, string second)
    {
        foreach (var name in new[] { first, second })
        {
            await Send(Cluster[0], "/v1/vms", HttpStatusCode.Created, new
            {
                name, vcpus = 1, memory = "128MiB", restart = "never",
                kernel = new { path = host.Guest.Kernel, initrd = host.Guest.Initrd, cmdline = "console=ttyS0 quiet" },
            });
            await Send(Cluster[0], $"/v1/vms/{name}/start?node=hv-3", HttpStatusCode.Accepted);
        }

        foreach (var name in new[] { first, second })
            await Eventually.Until(() => Cluster[0].Get($"/v1/vms/{name}"), v => v["state"]!.GetValue<string>() == "running", $"{name} is running", 90);
        Assert.Equal(("running", "running"), (State(first), State(second)));
        return Ids(first, second);
    }

    /// <summary>A running domain defined on hv-3's libvirtd by hand, without Virt's metadata; its libvirt id.</summary>
    private string StartForeign()
    {
        var xml = Path.Combine(host.Qemu.Directory, Foreign + ".xml");
        File.WriteAllText(xml, $"""
            <domain type='qemu'>
              <name>{Foreign}</name>
              <memory unit='MiB'>128</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64' machine='pc'>hvm</type><kernel>{host.Guest.Kernel}</kernel><initrd>{host.Guest.Initrd}</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
              <features><acpi/></features>
              <devices><emulator>/usr/bin/qemu-system-x86_64</emulator><controller type='usb' model='none'/><memballoon model='none'/></devices>
            </domain>
            """);
        Assert.True(host.Qemu.Virsh("define", xml).Exit == 0, "virsh define");
        var (exit, output) = host.Qemu.Virsh("start", Foreign);
        Assert.True(exit == 0, output);
        Assert.Equal("running", State(Foreign));
        return Id(Foreign);
    }

    private string Virsh(params string[] args)
    {
        var (exit, output) = host.Qemu.Virsh(args);
        Assert.True(exit == 0, $"virsh {string.Join(' ', args)}: {output}");
        return output;
    }

    private string State(string domain) => Virsh("domstate", domain).Trim();

    /// <summary>libvirt's id of a running domain ("-" when it does not run): a new one at every start.</summary>
    private string Id(string domain) => Virsh("domid", domain).Trim();

    private string Ids(string first, string second) => $"{first}={Id(first)} {second}={Id(second)}";

    private async Task AllMembersUp()
    {
        if (await MembersNotUp() is { } problem)
            Assert.Fail(problem);
    }

    /// <summary>Null when every node runs and sees all three members up and reachable; otherwise what it sees.</summary>
    private async Task<string?> MembersNotUp()
    {
        foreach (var node in Cluster.Nodes)
        {
            var members = (await node.Get("/v1/cluster"))["members"]!.AsArray();
            if (members.Count != 3 || members.Any(m => m!["status"]!.GetValue<string>() != "up"))
                return $"{node.Address} sees {members.ToJsonString()}";
        }

        return null;
    }

    /// <summary>Checks <paramref name="violation"/> (null: all is well) over and over for <paramref name="window"/>; fails at the first violation.</summary>
    private static async Task Holds(Func<Task<string?>> violation, TimeSpan window, string since)
    {
        var end = DateTime.UtcNow + window;
        while (DateTime.UtcNow < end)
        {
            if (await violation() is { } problem)
                Assert.Fail($"{(window - (end - DateTime.UtcNow)).TotalSeconds:0.0} s after {since}: {problem}");
            await Task.Delay(200); // the pace of the checks, not a wait for anything
        }
    }

    private static async Task<JsonNode> Send(VirtNodeProcess node, string path, HttpStatusCode expect, object? body = null)
    {
        using var content = body is null ? null : new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await node.Http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expect, $"POST {path} on {node.Address}: expected {(int)expect}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }
}
