using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;

namespace Virt.Tests.Persistence;

/// <summary>
/// Child-process side of the kill test: appends to 8 streams as fast as it can and prints "ack PID SEQ" for every
/// append the journal acknowledged. It never stops on its own; the test kills it.
/// </summary>
public static class JournalWriterProcess
{
    public static async Task<int> Run(string path)
    {
        await using var journal = SqliteJournal.Open(path, TestSerializer.Create());
        Console.Out.Flush();
        var streams = Enumerable.Range(0, 8).Select(async p =>
        {
            var pid = $"k-{p}";
            var seq = await journal.HighestSequenceNrAsync(pid);
            while (true)
            {
                await journal.AppendAsync(pid, seq, [new EventToWrite(new TestEvent(pid, (int)seq + 1), ["kill"]), new EventToWrite(new TestEvent(pid, (int)seq + 2))]);
                seq += 2;
                lock (Console.Out)
                {
                    Console.Out.WriteLine($"ack {pid} {seq}");
                    Console.Out.Flush();
                }
            }
        });
        await Task.WhenAll(streams);
        return 0;
    }
}
