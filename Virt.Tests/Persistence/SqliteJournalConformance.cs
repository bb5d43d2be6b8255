using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;
using Virt.Tests.Support;

namespace Virt.Tests.Persistence;

public sealed class SqliteJournalConformance : JournalConformance
{
    private readonly TempDirectory _dir = new("virt-sqlite");

    private SqlitePersistenceOptions Options => new() { Path = _dir.File("journal.db"), PollInterval = TimeSpan.FromMilliseconds(50) };

    protected override Task<IEventJournal> OpenJournal() =>
        Task.FromResult<IEventJournal>(new SqliteJournal(new SqliteDatabase(Options), TestSerializer.Create(), ownsDatabase: true));

    protected override Task<ISnapshotStore> OpenSnapshotStore() =>
        Task.FromResult<ISnapshotStore>(new SqliteSnapshotStore(new SqliteDatabase(Options), TestSerializer.Create()));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _dir.Dispose();
    }
}
