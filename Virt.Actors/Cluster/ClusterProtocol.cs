namespace Virt.Actors.Cluster;

/// <summary>Where this node stands in the cluster.</summary>
public enum MemberState
{
    /// <summary>Getting a lease and registering (or retrying: the store is unreachable, or the name is taken).</summary>
    Joining,

    Joined,

    /// <summary>The lease was lost; the node holds nothing and is joining again as a new incarnation.</summary>
    LeaseLost,

    /// <summary>Left on purpose (shutting down).</summary>
    Left,
}

/// <summary>Messages of <see cref="ClusterMemberActor"/>.</summary>
public static class ClusterProtocol
{
    /// <summary>Join, advertising <paramref name="Address"/> (host:port of the API, known once it listens).</summary>
    public sealed record JoinAt(string Address);

    /// <summary>Asks for this node's standing; the answer is a <see cref="Standing"/>.</summary>
    public sealed record GetStanding;

    /// <param name="Error">Why it is not joined, when it is not.</param>
    public sealed record Standing(string Name, MemberState State, string? Error, string? Incarnation, DateTimeOffset? LeaseDeadline, bool HoldsBalancer, int JoinAttempts);

    /// <summary>Leave gracefully: resign singletons, remove the membership record, revoke the lease. Answered with <see cref="Left"/>.</summary>
    public sealed record Leave;

    public sealed record Left;
}
