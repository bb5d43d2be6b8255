using Akka.Actor;
using Akka.Serialization;

namespace Virt.Actors.Persistence;

/// <summary>
/// Akka's serializer for everything <see cref="IVirtSerializable"/>: JSON with Virt's own stable manifests
/// (<c>vm.defined.v1</c>), never a CLR type name, so the journal outlives class renames and old manifests are read
/// through upcasters.
/// </summary>
public sealed class VirtSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves identifiers up to 100 for itself.</summary>
    public const int Id = 4110;

    public override int Identifier => Id;

    public override string Manifest(object o) => VirtManifests.Codec.ManifestOf(o.GetType());

    public override byte[] ToBinary(object obj) => VirtManifests.Codec.Serialize(obj).Payload;

    public override object FromBinary(byte[] bytes, string manifest) => VirtManifests.Codec.Deserialize(manifest, bytes);
}
