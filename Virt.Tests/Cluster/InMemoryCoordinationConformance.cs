using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.InProcess;

namespace Virt.Tests.Cluster;

public sealed class InMemoryCoordinationConformance : CoordinationConformance
{
    private readonly InMemoryCoordination _shared = new();

    /// <summary>Every "client" is the one in-process store; disposing a client leaves the store alone.</summary>
    protected override Task<ICoordination> Connect() => Task.FromResult<ICoordination>(new Client(_shared));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _shared.DisposeAsync();
    }

    private sealed class Client(InMemoryCoordination store) : ICoordination
    {
        public Task<KvEntry?> GetAsync(string key, CancellationToken c = default) => store.GetAsync(key, c);

        public Task<KvList> ListAsync(string prefix, CancellationToken c = default) => store.ListAsync(prefix, c);

        public Task<long> PutAsync(string key, byte[] value, long lease = 0, CancellationToken c = default) => store.PutAsync(key, value, lease, c);

        public Task<long> DeleteAsync(string key, CancellationToken c = default) => store.DeleteAsync(key, c);

        public Task<CasResult> CompareAndSwapAsync(string key, long expected, byte[] value, long lease = 0, CancellationToken c = default) => store.CompareAndSwapAsync(key, expected, value, lease, c);

        public Task<CasResult> CompareAndDeleteAsync(string key, long expected, CancellationToken c = default) => store.CompareAndDeleteAsync(key, expected, c);

        public Task<long> GrantLeaseAsync(TimeSpan ttl, CancellationToken c = default) => store.GrantLeaseAsync(ttl, c);

        public Task<TimeSpan> KeepAliveAsync(long lease, CancellationToken c = default) => store.KeepAliveAsync(lease, c);

        public Task<TimeSpan?> TimeToLiveAsync(long lease, CancellationToken c = default) => store.TimeToLiveAsync(lease, c);

        public Task RevokeLeaseAsync(long lease, CancellationToken c = default) => store.RevokeLeaseAsync(lease, c);

        public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long from, CancellationToken c = default) => store.WatchAsync(prefix, from, c);

        public Task CompactAsync(long revision, CancellationToken c = default) => store.CompactAsync(revision, c);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
