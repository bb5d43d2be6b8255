using Akka.Cluster.Sharding;

namespace Virt.Actors.Vm;

/// <summary>Sharding's routing: the entity id is the VM's name; shards are a hash of it.</summary>
public sealed class VmMessageExtractor(int shards) : HashCodeMessageExtractor(shards)
{
    public override string? EntityId(object message) => message is IVmMessage m ? m.Vm : null;
}

/// <summary>Registry key of the <c>vm</c> shard region.</summary>
public sealed class VmRegion;
