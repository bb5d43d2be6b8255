namespace Virt.Node.Libvirt;

/// <summary>virDomainEventType.</summary>
internal enum DomainEventType
{
    Defined = 0,
    Undefined = 1,
    Started = 2,
    Suspended = 3,
    Resumed = 4,
    Stopped = 5,
    Shutdown = 6,
    PmSuspended = 7,
    Crashed = 8,
}

/// <summary>virDomainEventStoppedDetailType: why a domain stopped.</summary>
internal enum StoppedDetail
{
    Shutdown = 0,
    Destroyed = 1,
    Crashed = 2,
    Migrated = 3,
    Saved = 4,
    Failed = 5,
    FromSnapshot = 6,
}

/// <summary>virDomainState.</summary>
internal enum DomainRunState
{
    NoState = 0,
    Running = 1,
    Blocked = 2,
    Paused = 3,
    Shutdown = 4,
    Shutoff = 5,
    Crashed = 6,
    PmSuspended = 7,
}

/// <summary>A domain lifecycle event as libvirt reported it on its event loop thread.</summary>
internal sealed record DomainLifecycleEvent(string Name, string Uuid, DomainEventType Type, int Detail)
{
    public StoppedDetail? Stopped => Type == DomainEventType.Stopped ? (StoppedDetail)Detail : null;
}

/// <param name="Id">libvirt's id of the running domain (a new one at each start); null when it is not running.</param>
internal sealed record DomainSummary(string Name, string Uuid, DomainRunState State, int? Id);

internal sealed record HostInfo(string Model, int Cpus, long MemoryBytes, int Mhz);
