namespace Virt.Actors.Persistence;

/// <summary>
/// Marks what Virt itself serializes (<see cref="VirtSerializer"/>): every persisted event and snapshot, and every
/// message that may cross between nodes. Each such type has a manifest in <see cref="VirtManifests"/>.
/// </summary>
public interface IVirtSerializable;
