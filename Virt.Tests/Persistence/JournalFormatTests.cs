using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Virt.Actors.Persistence;
using Virt.Tests.Support;

namespace Virt.Tests.Persistence;

/// <summary>
/// What Akka.Persistence.Sql stores for Virt, read straight from the database: Virt's own manifests and JSON, never a
/// CLR type name; and an event of an older manifest, put into the journal by hand, read through its upcaster.
/// </summary>
public sealed class JournalFormatTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-journal");
    private readonly SimulatedHost _host = new();
    private InProcessNode _node = null!;

    private string Db => Path.Combine(_dir.Path, "journal.db");

    public async Task InitializeAsync()
    {
        _node = new InProcessNode(_dir.Path, _host.Uri, "virt.persistence.snapshot-every=3");
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _host.Dispose();
        _dir.Dispose();
    }

    private async Task<List<(string Manifest, long Serializer, string Payload)>> Rows(string table, string payloadColumn)
    {
        await using var db = new SqliteConnection($"Data Source={Db};Mode=ReadOnly");
        await db.OpenAsync();
        await using var query = db.CreateCommand();
        query.CommandText = $"SELECT manifest, {(table == "journal" ? "identifier" : "serializer_id")}, {payloadColumn} FROM {table} WHERE persistence_id LIKE 'vm-%' ORDER BY persistence_id, sequence_number";
        var rows = new List<(string, long, string)>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), reader.GetInt64(1), Encoding.UTF8.GetString((byte[])reader.GetValue(2))));
        return rows;
    }

    private async Task<long> NewestSnapshot()
    {
        await using var db = new SqliteConnection($"Data Source={Db};Mode=ReadOnly");
        await db.OpenAsync();
        await using var query = db.CreateCommand();
        query.CommandText = "SELECT COALESCE(MAX(sequence_number), 0) FROM snapshot WHERE persistence_id = 'vm-web-1'";
        return (long)(await query.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Events_and_snapshots_are_stored_under_virts_manifests_as_plain_json()
    {
        await _node.Post("/v1/vms", new { name = "web-1", vcpus = 1, memory = "256MiB" }, expect: 201);
        await _node.Post("/v1/vms/web-1/start", expect: 202);
        await _node.WaitForState("web-1", "running");
        await _node.Post("/v1/vms/web-1/stop?force=true", expect: 202);
        await _node.WaitForState("web-1", "stopped");

        // A snapshot every 3 events: the one after event 6 is saved, and the older one deleted, after the fact.
        await Eventually.Until(async () => (await Rows("snapshot", "snapshot")).Count == 1 && await NewestSnapshot() == 6, "one snapshot, after event 6");
        await _node.Stop();

        var events = await Rows("journal", "message");
        Assert.Equal(
            ["vm.defined.v1", "vm.placement-requested.v1", "vm.start-requested.v1", "vm.started.v1", "vm.stop-requested.v1", "vm.stopped.v1"],
            events.Select(e => e.Manifest));
        var snapshots = await Rows("snapshot", "snapshot");
        Assert.Equal("vm.state.v1", Assert.Single(snapshots).Manifest);
        foreach (var (manifest, serializer, payload) in events.Concat(snapshots))
        {
            Assert.Equal(VirtSerializer.Id, serializer);
            Assert.IsType<JsonObject>(JsonNode.Parse(payload));
            Assert.DoesNotContain("$type", payload);
            Assert.DoesNotContain("Virt.Actors", payload);
            Assert.DoesNotContain("System.", payload);
        }
    }

    [Fact]
    public async Task An_event_of_an_older_manifest_in_the_journal_is_read_through_its_upcaster()
    {
        await _node.Post("/v1/vms", new { name = "old", vcpus = 1, memory = "256MiB", restart = "always" }, expect: 201);
        await _node.Post("/v1/vms/old/start", expect: 202);
        await _node.WaitForState("old", "running");
        await _node.Stop();

        // As an older virt-node wrote it: a crash, then a restart scheduled with its delay as .NET time span text (v1).
        await using (var db = new SqliteConnection($"Data Source={Db}"))
        {
            await db.OpenAsync();
            await using var last = db.CreateCommand();
            last.CommandText = "SELECT MAX(sequence_number) FROM journal WHERE persistence_id = 'vm-old'";
            var seq = (long)(await last.ExecuteScalarAsync())!;
            var at = DateTimeOffset.UtcNow;
            await Append(db, seq + 1, "vm.stopped-unexpectedly.v1", new JsonObject { ["reason"] = "crashed", ["at"] = at });
            await Append(db, seq + 2, "vm.restart-scheduled.v1", new JsonObject
            {
                ["op"] = 3, ["attempt"] = 1, ["delay"] = "00:05:00", ["reason"] = "2026-01-01 00:00:00Z crashed", ["at"] = at,
            });
        }

        await _node.Start();
        var vm = await _node.WaitForState("old", "recovering");
        Assert.Contains("crashed", vm["failureReasons"]!.AsArray().Last()!.GetValue<string>());
        var listed = (await _node.Get("/v1/vms")).AsArray().Single(v => v!["name"]!.GetValue<string>() == "old")!;
        Assert.Equal("recovering", listed["state"]!.GetValue<string>()); // the index reads it the same way
        var scheduled = (await _node.Get("/v1/events?vm=old")).AsArray().Last()!;
        Assert.Equal("restart-scheduled", scheduled["type"]!.GetValue<string>());
        Assert.Equal(300_000, scheduled["detail"]!["delayMs"]!.GetValue<double>());
    }

    private static async Task Append(SqliteConnection db, long sequence, string manifest, JsonObject payload)
    {
        await using var insert = db.CreateCommand();
        insert.CommandText = "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, tags, manifest, identifier, writer_uuid) " +
                             "VALUES ($created, 0, 'vm-old', $seq, $message, ';vm;', $manifest, $serializer, 'older-virt-node')";
        insert.Parameters.AddWithValue("$created", DateTime.UtcNow.Ticks);
        insert.Parameters.AddWithValue("$seq", sequence);
        insert.Parameters.AddWithValue("$message", Encoding.UTF8.GetBytes(payload.ToJsonString()));
        insert.Parameters.AddWithValue("$manifest", manifest);
        insert.Parameters.AddWithValue("$serializer", VirtSerializer.Id);
        Assert.Equal(1, await insert.ExecuteNonQueryAsync());
    }
}
