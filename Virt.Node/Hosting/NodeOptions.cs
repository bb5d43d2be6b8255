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

        /// <summary>host:port other nodes and the shell reach this node's API at. Empty: the address the API listens on.</summary>
        public string Address { get; set; } = "";

        /// <summary>What this node does in the cluster, published with its membership.</summary>
        public List<string> Roles { get; set; } = [];
    }

    internal sealed class ActorOptions
    {
        public int Throughput { get; set; } = 64;
    }
}
