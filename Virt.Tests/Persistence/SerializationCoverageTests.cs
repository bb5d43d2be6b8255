using Virt.Actors.Balancer;
using Virt.Actors.Persistence;
using Virt.Actors.Vm;

namespace Virt.Tests.Persistence;

/// <summary>
/// Everything Virt sends between nodes or stores has a manifest: a type marked <see cref="IVirtSerializable"/> but not
/// registered would fail only when it first crosses the wire (a lost placement, a silent host), so it fails here.
/// </summary>
public sealed class SerializationCoverageTests
{
    public static TheoryData<string> Serializable() => new(
        typeof(IVirtSerializable).Assembly.GetTypes()
            .Where(t => typeof(IVirtSerializable).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => t.FullName!));

    [Theory]
    [MemberData(nameof(Serializable))]
    public void Every_serializable_type_has_a_manifest(string type)
    {
        var t = typeof(IVirtSerializable).Assembly.GetType(type)!;
        Assert.True(VirtManifests.Codec.IsRegistered(t), $"{type} is IVirtSerializable but has no manifest in VirtManifests");
    }

    public static TheoryData<object> Messages() => new(
        new VmProtocol.Command("web-1", new VmCommand.Start("hv-2")),
        new VmProtocol.Command("web-1", new VmCommand.HostLost("hv-3", "lost", 7)),
        new VmProtocol.Command("web-1", new VmCommand.HostFenced("hv-3", 7, "power: off ok, status off")),
        new Virt.Actors.Fencing.FencerProtocol.Fences([new Virt.Actors.Fencing.FenceRecord("hv-3", 7, DateTimeOffset.UnixEpoch, "downed", DateTimeOffset.UnixEpoch)
            { Confirmed = new Virt.Actors.Fencing.FenceConfirmation("power", "off ok, status off", DateTimeOffset.UnixEpoch), LastFailure = "x" }],
            [new Virt.Actors.Fencing.FencerProtocol.HostSeen("hv-3", 7, TimeSpan.FromSeconds(10))]),
        new Virt.Actors.Fencing.FencerProtocol.HostSeen("hv-3", 7, TimeSpan.FromSeconds(10)),
        new VmProtocol.Command("web-1", new VmCommand.Define(new VmSpec("web-1", Guid.NewGuid(), 2, 2048, [new DiskSpec(DiskKind.File, "/a.qcow2")], [new NicSpec(NicKind.Bridge, "br0", Vlan: 4)]))),
        new BalancerProtocol.PlaceVm("web-1", 4, 2, 2048, 10, true, "hv-1"),
        new BalancerProtocol.Placement("web-1", 4, null, "hv-1: memory needs 2048 MiB, 1024 free"),
        new BalancerProtocol.HostReport("hv-1", 32, 131072, new Dictionary<string, string> { ["rack"] = "r1" }, HostState.Up, true, ["web-1"], 7),
        new StartDomain(new VmSpec("web-1", Guid.NewGuid(), 2, 2048, [], []), 3, 12345),
        new DomainRequestDone("web-1", 3, "start", DomainOutcome.Stale, "hv-1", "old token"),
        new WatchReadiness(new VmSpec("db-1", Guid.NewGuid(), 1, 512, [], [], Readiness: new ReadinessSpec(ReadinessKind.Tcp, "10.0.0.5:5432", TimeSpan.FromSeconds(90))), 4, 12345),
        new GuestReadySeen("db-1", 4, "virtio-signal: 'ready 7f3a' acknowledged", "hv-1"),
        new VmProtocol.Command("db-1", new VmCommand.GuestReady(4, "tcp: 10.0.0.5:5432 accepted a connection")));

    [Theory]
    [MemberData(nameof(Messages))]
    public void A_message_round_trips_through_virts_serializer(object message)
    {
        var (manifest, payload) = VirtManifests.Codec.Serialize(message);
        var back = VirtManifests.Codec.Deserialize(manifest, payload);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message, message.GetType(), ManifestCodec.JsonOptions),
            System.Text.Json.JsonSerializer.Serialize(back, back.GetType(), ManifestCodec.JsonOptions));
        Assert.Equal(message.GetType(), back.GetType());
        Assert.DoesNotContain("Virt.", System.Text.Encoding.UTF8.GetString(payload)); // no CLR names on the wire either
    }
}
