using System.Net;
using Microsoft.Extensions.Configuration;
using Virt.Actors.Cluster;
using Virt.Actors.Vm;
using Virt.Hocon;

namespace Virt.Node.Hosting;

/// <summary>Bound from <c>virt</c>: who this node is, where it keeps state, and how it joins the cluster.</summary>
internal sealed class NodeOptions : IValidatedOptions
{
    [ConfigurationKeyName("data-dir")]
    public string DataDir { get; set; } = "/var/lib/virt";

    public NodeIdentity Node { get; set; } = new();

    public ClusterSettings Cluster { get; set; } = new();

    public string NodeName => string.IsNullOrWhiteSpace(Node.Name) ? Environment.MachineName : Node.Name;

    public IEnumerable<(string Key, string Problem)> Problems()
    {
        if (string.IsNullOrWhiteSpace(DataDir) || !DataDir.StartsWith('/'))
            yield return ("data-dir", $"'{DataDir}' must be an absolute directory path, like /var/lib/virt");
        if (!VmSpecValidator.IsValidName(NodeName))
            yield return ("node.name", $"'{NodeName}' is not a valid node name: use {VmSpecValidator.NameRuleText}");
        foreach (var role in Node.Roles.Where(r => !VmSpecValidator.IsValidName(r) || r == NodeRole.Member || r.StartsWith(NodeRole.Prefix, StringComparison.Ordinal)))
            yield return ("node.roles", $"'{role}' is not a valid role name: use {VmSpecValidator.NameRuleText}, other than '{NodeRole.Member}' and not starting with '{NodeRole.Prefix}' (Virt's own)");
        if (Node.Address.Length > 0 && !Endpoints.TryParse(Node.Address, out _))
            yield return ("node.address", $"'{Node.Address}' is not host:port (this node's API as other nodes reach it, for example hv-01.example.net:9110); leave it empty for the address the API listens on");
        if (Node.ReportInterval <= TimeSpan.Zero)
            yield return ("node.report-interval", "must be a positive duration, like 2s");
        if (!Endpoints.TryParse(Cluster.Listen, out _))
            yield return ("cluster.listen", $"'{Cluster.Listen}' is not host:port (for example 127.0.0.1:4053, or 0.0.0.0:4053 with virt.cluster.public-host)");
        foreach (var seed in Cluster.SeedNodes.Where(s => !Endpoints.TryParse(s, out _)))
            yield return ("cluster.seed-nodes", $"'{seed}' is not host:port (the virt.cluster.listen of another node)");
        foreach (var (attribute, _) in Node.Attributes.Where(a => !VmSpecValidator.IsValidName(a.Key)))
            yield return ($"node.attributes.{attribute}", $"'{attribute}' is not a valid attribute name: use {VmSpecValidator.NameRuleText}");
        if (Cluster.MinMembers < 0 || (Cluster.SeedNodes.Count > 0 && Cluster.MinMembers > Cluster.SeedNodes.Count))
            yield return ("cluster.min-members", $"must be from 0 (a majority of the seed nodes) to the number of seed nodes ({Cluster.SeedNodes.Count}), not {Cluster.MinMembers}");
        if (Cluster.Shards is < 1 or > 10000)
            yield return ("cluster.shards", $"must be from 1 to 10000, not {Cluster.Shards}");
        foreach (var (key, problem) in Cluster.Etcd.Problems())
            yield return ($"cluster.etcd.{key}", problem);
    }

    internal sealed class NodeIdentity
    {
        public string Name { get; set; } = "";

        /// <summary>host:port other nodes and the shell reach this node's API at. Empty: the address the API listens on.</summary>
        public string Address { get; set; } = "";

        /// <summary>What this node does in the cluster (Akka cluster roles).</summary>
        public List<string> Roles { get; set; } = [];

        /// <summary>Facts about the host for placement rules (<c>rack = r1</c>, <c>ssd = true</c>).</summary>
        public Dictionary<string, string> Attributes { get; set; } = new(StringComparer.Ordinal);

        /// <summary>How often the node agent reports the host to the balancer.</summary>
        [ConfigurationKeyName("report-interval")]
        public TimeSpan ReportInterval { get; set; } = TimeSpan.FromSeconds(2);
    }

    internal sealed class ClusterSettings
    {
        /// <summary>host:port of this node's Akka.Remote endpoint.</summary>
        public string Listen { get; set; } = "127.0.0.1:4053";

        /// <summary>The host name other nodes reach this one at, when <see cref="Listen"/> is a wildcard; empty: the listen host.</summary>
        [ConfigurationKeyName("public-host")]
        public string PublicHost { get; set; } = "";

        /// <summary>host:port of the nodes to join through (their <see cref="Listen"/>). Empty: this node alone, joining itself.</summary>
        [ConfigurationKeyName("seed-nodes")]
        public List<string> SeedNodes { get; set; } = [];

        /// <summary>Shards of the <c>vm</c> region: the unit VM entities move between nodes in. Fixed for the cluster's life.</summary>
        public int Shards { get; set; } = 100;

        /// <summary>Members the leader waits for before it moves any up (so a cold start does not pile everything onto the first node); 0: a majority of the seed nodes.</summary>
        [ConfigurationKeyName("min-members")]
        public int MinMembers { get; set; }

        /// <summary>etcd for the Split Brain Resolver's and the singletons' leases; no endpoints: none.</summary>
        public EtcdOptions Etcd { get; set; } = new();

        public int EffectiveMinMembers => MinMembers > 0 ? MinMembers : SeedNodes.Count / 2 + 1;
    }
}

/// <summary>host:port parsing shared by the API and remoting settings.</summary>
internal static class Endpoints
{
    public static bool TryParse(string text, out (string Host, int Port) endpoint)
    {
        endpoint = default;
        if (IPEndPoint.TryParse(text, out var ip) && text.Contains(':'))
        {
            endpoint = (ip.Address.ToString(), ip.Port);
            return true;
        }

        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out var port) || port is < 0 or > 65535)
            return false;
        var host = text[..colon];
        if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
            return false;
        endpoint = (host, port);
        return true;
    }
}
