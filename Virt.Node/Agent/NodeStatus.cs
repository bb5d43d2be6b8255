namespace Virt.Node.Agent;

/// <summary>What the node agent knows about its host, for <c>virt node show</c>.</summary>
public sealed record NodeStatus(
    string Name,
    string Uri,
    bool Healthy,
    string? Error,
    DateTimeOffset Since,
    string? Driver,
    string? CpuModel,
    int Cpus,
    long MemoryBytes,
    int ReconnectAttempts,
    IReadOnlyList<DomainEntry> Domains);

/// <param name="Id">libvirt's id of the running domain: a new one each time it starts.</param>
public sealed record DomainEntry(string Name, string Uuid, string State, int? Id = null);

public sealed record GetNodeStatus;

/// <summary>Cheap health question (no libvirt call): is libvirt reachable right now?</summary>
public sealed record GetHealth;

public sealed record Health(bool Healthy, string? Error);
