using Microsoft.Extensions.Configuration;

namespace Virt.Node.Hosting;

/// <summary>Bound from <c>virt</c>: who this node is and where it keeps state.</summary>
internal sealed class NodeOptions
{
    [ConfigurationKeyName("data-dir")]
    public string DataDir { get; set; } = "/var/lib/virt";

    public NodeIdentity Node { get; set; } = new();

    public ActorOptions Actors { get; set; } = new();

    public string NodeName => string.IsNullOrWhiteSpace(Node.Name) ? Environment.MachineName : Node.Name;

    internal sealed class NodeIdentity
    {
        public string Name { get; set; } = "";
    }

    internal sealed class ActorOptions
    {
        public int Throughput { get; set; } = 64;
    }
}
