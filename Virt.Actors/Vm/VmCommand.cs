namespace Virt.Actors.Vm;

/// <summary>Everything a VM decides on: operator commands, what the node agent observed, and its own timeouts.</summary>
public abstract record VmCommand
{
    // Operator commands
    public sealed record Define(VmSpec Spec) : VmCommand;

    public sealed record UpdateSpec(VmSpec Spec) : VmCommand;

    public sealed record Start : VmCommand;

    public sealed record Stop(bool Force = false) : VmCommand;

    public sealed record Restart : VmCommand;

    public sealed record Delete(bool Force = false) : VmCommand;

    public sealed record ClearFailures : VmCommand;

    // Observations from the node agent
    public sealed record StartDone(long Op) : VmCommand;

    public sealed record StartRefused(long Op, string Reason) : VmCommand;

    public sealed record StopDone(long Op) : VmCommand;

    /// <summary>The domain stopped (the agent checked it really is stopped). Reason: shutdown, destroyed, crashed, failed...</summary>
    public sealed record DomainStopped(string Reason) : VmCommand;

    /// <summary>The domain runs (the agent checked), though Virt did not start it just now.</summary>
    public sealed record DomainRunning : VmCommand;

    /// <summary>What libvirt says about the domain, asked at start-up or after libvirt came back.</summary>
    public sealed record Observed(bool Exists, bool Running) : VmCommand;

    // State timeouts
    public sealed record StartTimedOut(long Op) : VmCommand;

    public sealed record StopTimedOut(long Op) : VmCommand;

    public sealed record RetryStart(long Op) : VmCommand;
}
