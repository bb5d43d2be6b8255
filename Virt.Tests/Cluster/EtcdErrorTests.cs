using Virt.Actors.Cluster.Etcd;

namespace Virt.Tests.Cluster;

/// <summary>How etcd's grpc-status answers become typed errors (what the caller may retry, what may have been applied).</summary>
public sealed class EtcdErrorTests
{
    private static readonly Uri Member = new("http://10.0.0.1:2379");

    [Theory]
    [InlineData(14, "etcdserver: no leader", typeof(EtcdNotLeaderException), false)]
    [InlineData(9, "etcdserver: not leader", typeof(EtcdNotLeaderException), false)]
    [InlineData(14, "etcdserver: request timed out", typeof(EtcdDeadlineException), true)]
    [InlineData(4, "context deadline exceeded", typeof(EtcdDeadlineException), true)]
    [InlineData(14, "etcdserver: leader changed", typeof(EtcdUnavailableException), true)]
    public void Availability_errors_say_whether_the_request_may_have_been_applied(int code, string message, Type expected, bool sent)
    {
        var error = Assert.IsAssignableFrom<EtcdUnavailableException>(EtcdException.FromStatus(code, message, Member, "/etcdserverpb.KV/Put"));
        Assert.Equal(expected, error.GetType());
        Assert.Equal(sent, error.Sent);
        Assert.StartsWith("etcd 10.0.0.1:2379 Put: ", error.Message);
    }

    [Fact]
    public void Compaction_and_other_refusals_keep_their_code()
    {
        var compacted = Assert.IsType<EtcdCompactedException>(EtcdException.FromStatus(11, "mvcc: required revision has been compacted", Member, "/etcdserverpb.KV/Range"));
        Assert.Contains("compacted", compacted.Message);
        var lease = Assert.IsType<EtcdException>(EtcdException.FromStatus(5, "etcdserver: requested lease not found", Member, "/etcdserverpb.Lease/LeaseRevoke"));
        Assert.Equal(5, lease.Code);
        Assert.Contains("(gRPC status 5)", lease.Message);
    }
}
