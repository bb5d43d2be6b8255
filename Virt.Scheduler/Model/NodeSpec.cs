namespace Virt.Scheduler;

public enum NodeState
{
    /// <summary>Runs VMs and takes new ones.</summary>
    Up,

    /// <summary>Being emptied: keeps what it runs for now, takes nothing new.</summary>
    Draining,

    /// <summary>Out of service: takes nothing.</summary>
    Maintenance,

    /// <summary>Dead or fenced.</summary>
    Down,
}

/// <param name="Capacity">Per dimension (vcpu, memory_mib, any custom one), before overcommit.</param>
public sealed record NodeSpec(
    string Name,
    IReadOnlyDictionary<string, double> Capacity,
    IReadOnlyDictionary<string, string> Attributes,
    NodeState State = NodeState.Up);
