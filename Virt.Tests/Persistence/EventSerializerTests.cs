using System.Text.Json.Nodes;
using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;
using Virt.Tests.Support;

namespace Virt.Tests.Persistence;

public sealed class EventSerializerTests
{
    private sealed record DiskAddedV1(string Path);

    private sealed record DiskAdded(string Path, long SizeBytes, string Bus);

    [Fact]
    public void Round_trips_a_registered_event_under_its_manifest()
    {
        var serializer = new EventSerializer().Register<TestEvent>("test.event.v1");
        var (manifest, payload) = serializer.Serialize(new TestEvent("x", 3));
        Assert.Equal("test.event.v1", manifest);
        Assert.Equal(new TestEvent("x", 3), serializer.Deserialize(manifest, payload));
    }

    [Fact]
    public void Unknown_types_and_manifests_get_errors_that_say_what_to_do()
    {
        var serializer = new EventSerializer();
        var write = Assert.Throws<UnknownManifestException>(() => serializer.Serialize(new TestEvent("x", 1)));
        Assert.Contains("Register<TestEvent>", write.Message);
        var read = Assert.Throws<UnknownManifestException>(() => serializer.Deserialize("gone.v1", "{}"u8));
        Assert.Contains("'gone.v1'", read.Message);
        Assert.Contains("upcaster", read.Message);
    }

    [Fact]
    public void A_manifest_cannot_be_claimed_by_two_types()
    {
        var serializer = new EventSerializer().Register<TestEvent>("m.v1");
        Assert.Throws<ArgumentException>(() => serializer.Register<TestSnapshot>("m.v1"));
    }

    [Fact]
    public void Upcasters_chain_an_old_manifest_to_the_current_type()
    {
        var serializer = new EventSerializer()
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
        var old = new EventSerializer().Register<DiskAddedV1>("disk-added.v1").Serialize(new DiskAddedV1("/a.img"));

        Assert.Equal(new DiskAdded("/a.img", 0, "virtio"), serializer.Deserialize(old.Manifest, old.Payload));
    }

    [Fact]
    public async Task An_upcaster_reads_old_events_already_in_a_journal()
    {
        using var dir = new TempDirectory();
        var path = dir.File("j.db");
        await using (var v1 = SqliteJournal.Open(path, new EventSerializer().Register<DiskAddedV1>("disk-added.v1")))
            await v1.AppendAsync("vm", 0, [new EventToWrite(new DiskAddedV1("/old.img"))]);

        var v2 = new EventSerializer()
            .Register<DiskAdded>("disk-added.v2")
            .AddUpcaster("disk-added.v1", "disk-added.v2", o => new JsonObject { ["path"] = o["path"]!.GetValue<string>(), ["sizeBytes"] = 1, ["bus"] = "scsi" });
        await using var journal = SqliteJournal.Open(path, v2);
        await foreach (var e in journal.ReplayAsync("vm", 1))
            Assert.Equal(new DiskAdded("/old.img", 1, "scsi"), e.Payload);
    }
}
