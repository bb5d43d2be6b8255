using Microsoft.Data.Sqlite;
using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;
using Virt.Tests.Support;

namespace Virt.Tests.Persistence;

public sealed class SqliteKillTests
{
    [Fact]
    public async Task After_SIGKILL_mid_write_the_reopened_journal_has_every_acknowledged_event_gap_free()
    {
        using var dir = new TempDirectory();
        var path = dir.File("journal.db");
        var acked = new Dictionary<string, long>();
        using (var child = ChildProcess.StartHelper("journal-writer", path))
        {
            var total = 0;
            while (total < 400)
            {
                var line = await child.WaitForLine(l => l.StartsWith("ack "), TimeSpan.FromSeconds(60));
                var parts = line.Split(' ');
                acked[parts[1]] = Math.Max(acked.GetValueOrDefault(parts[1]), long.Parse(parts[2]));
                total++;
            }

            child.Kill(); // mid-stream: appends are in flight
        }

        await using var journal = SqliteJournal.Open(path, TestSerializer.Create());
        foreach (var (pid, ackedSeq) in acked)
        {
            var events = new List<PersistedEvent>();
            await foreach (var e in journal.ReplayAsync(pid, 1))
                events.Add(e);
            Assert.True(events.Count >= ackedSeq, $"{pid}: acknowledged {ackedSeq} but only {events.Count} stored");
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.SequenceNr));
            Assert.Equal(Enumerable.Range(1, events.Count), events.Select(e => ((TestEvent)e.Payload).N));
            Assert.True(events.Count % 2 == 0, $"{pid}: an append of two events was torn ({events.Count} stored)");
            // Still writable where it left off.
            await journal.AppendAsync(pid, events.Count, [new EventToWrite(new TestEvent(pid, events.Count + 1))]);
        }

        await using var check = new SqliteConnection($"Data Source={path}");
        await check.OpenAsync();
        await using var cmd = check.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", await cmd.ExecuteScalarAsync());
    }
}
