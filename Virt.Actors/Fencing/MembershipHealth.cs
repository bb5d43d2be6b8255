using Akka.Cluster;

namespace Virt.Actors.Fencing;

/// <summary>
/// Whether this node is a healthy member of the cluster, the rule its watchdog is petted on (virt.fencing.watchdog):
/// its own status is Up or WeaklyUp, and the members it sees as reachable (itself included) are a strict majority of
/// the members. Members are counted as the split-brain resolver's keep-majority counts them: Up and Leaving ones
/// (Joining and WeaklyUp ones are not members yet, Down and Exiting ones no more), plus this node itself.
/// A node cut off from the majority is on the side the resolver downs, so it stops petting and its watchdog resets it.
/// </summary>
/// <param name="Healthy">This node may go on running VMs: pet the watchdog.</param>
/// <param name="Reason">Why, in a person's words: "3 of 3 members reachable", "2 of 3 members unreachable", "this member is down".</param>
internal sealed record MembershipHealth(bool Healthy, string Reason)
{
    /// <summary>From Akka's view of the cluster (a subscription's initial snapshot, or <c>Cluster.State</c>).</summary>
    public static MembershipHealth Of(ClusterEvent.CurrentClusterState state, UniqueAddress self, bool departing = false) =>
        Of(state.Members.ToDictionary(m => m.UniqueAddress, m => m.Status),
            state.Unreachable.Select(m => m.UniqueAddress).ToHashSet(),
            self,
            departing);

    /// <summary>From the plain facts: every member's status, and the members marked unreachable.</summary>
    /// <param name="departing">
    /// This node leaves on request and was not downed (the caller knows: it saw this member go Leaving, or a shutdown
    /// begin that is not a downing): then its own Leaving, Exiting or removal is no loss, and only the majority counts.
    /// A member that leaves is still protected by its watchdog until it is gone, without being reset for leaving.
    /// </param>
    public static MembershipHealth Of(IReadOnlyDictionary<UniqueAddress, MemberStatus> members, IReadOnlySet<UniqueAddress> unreachable, UniqueAddress self, bool departing = false)
    {
        var known = members.TryGetValue(self, out var own);
        if (departing && (!known || own is MemberStatus.Removed))
            return new(true, "this member left the cluster");
        if (!known)
            return new(false, "this node is not a member (not joined yet, or removed)");
        if (!(own is MemberStatus.Up or MemberStatus.WeaklyUp || departing && own is MemberStatus.Leaving or MemberStatus.Exiting))
            return new(false, own switch
            {
                MemberStatus.Joining => "this member is joining, not up yet",
                MemberStatus.Leaving => "this member is leaving",
                MemberStatus.Exiting => "this member is exiting",
                MemberStatus.Down => "this member is down",
                MemberStatus.Removed => "this member is removed",
                _ => $"this member is {own}",
            });

        var counted = members
            .Where(m => m.Key.Equals(self) || m.Value is MemberStatus.Up or MemberStatus.Leaving)
            .Select(m => m.Key)
            .ToList();
        // This node cannot observe itself: it counts as reachable whatever others say of it.
        var lost = counted.Count(node => !node.Equals(self) && unreachable.Contains(node));
        var reachable = counted.Count - lost;
        return reachable * 2 > counted.Count
            ? new(true, $"{reachable} of {counted.Count} members reachable")
            : new(false, $"{lost} of {counted.Count} members unreachable");
    }
}
