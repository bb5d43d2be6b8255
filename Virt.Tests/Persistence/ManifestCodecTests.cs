using Virt.Actors.Persistence;

namespace Virt.Tests.Persistence;

public sealed class ManifestCodecTests
{
    private sealed record TestEvent(string Name, int Count);

    private sealed record TestSnapshot(string Name);

    private sealed record DiskAddedV1(string Path);

    private sealed record DiskAdded(string Path, long SizeBytes, string Bus);

    [Fact]
    public void Round_trips_a_registered_event_under_its_manifest()
    {
        var serializer = new ManifestCodec().Register<TestEvent>("test.event.v1");
        var (manifest, payload) = serializer.Serialize(new TestEvent("x", 3));
        Assert.Equal("test.event.v1", manifest);
        Assert.Equal(new TestEvent("x", 3), serializer.Deserialize(manifest, payload));
    }

    [Fact]
    public void Unknown_types_and_manifests_get_errors_that_say_what_to_do()
    {
        var serializer = new ManifestCodec();
        var write = Assert.Throws<UnknownManifestException>(() => serializer.Serialize(new TestEvent("x", 1)));
        Assert.Contains("Register<TestEvent>", write.Message);
        Assert.Contains("VirtManifests", write.Message);
        var read = Assert.Throws<UnknownManifestException>(() => serializer.Deserialize("gone.v1", "{}"u8));
        Assert.Contains("'gone.v1'", read.Message);
        Assert.Contains("upcaster", read.Message);
    }

    [Fact]
    public void A_manifest_cannot_be_claimed_by_two_types()
    {
        var serializer = new ManifestCodec().Register<TestEvent>("m.v1");
        Assert.Throws<ArgumentException>(() => serializer.Register<TestSnapshot>("m.v1"));
    }

    [Fact]
    public void Upcasters_chain_an_old_manifest_to_the_current_type()
    {
        var serializer = new ManifestCodec()
            .Register<DiskAdded>("disk-added.v3")
            .AddUpcaster("disk-added.v1", "disk-added.v2", o =>
            {
                o["sizeBytes"] = 0;
                return o;
            })
            .AddUpcaster("disk-added.v2", "disk-added.v3", o =>
            {
                o["bus"] = "virtio";
                return o;
            });
        var old = new ManifestCodec().Register<DiskAddedV1>("disk-added.v1").Serialize(new DiskAddedV1("/a.img"));

        Assert.Equal(new DiskAdded("/a.img", 0, "virtio"), serializer.Deserialize(old.Manifest, old.Payload));
    }
}
