using Virt.Actors.Persistence;

namespace Virt.Actors.Balancer;

/// <summary>What only the balancer owns and keeps in its journal (persistence id <c>balancer</c>): the placement rules.</summary>
public abstract record BalancerEvent(DateTimeOffset At) : IVirtSerializable
{
    /// <param name="Json">The rule as given, in the <c>virt plan</c> scenario format (read again at recovery, so the format may grow).</param>
    public sealed record RuleAdded(string Name, string Json, DateTimeOffset At) : BalancerEvent(At);

    public sealed record RuleRemoved(string Name, DateTimeOffset At) : BalancerEvent(At);
}
