using System.Xml;
using System.Xml.Linq;
using Akka.Actor;
using Virt.Node.Libvirt;

namespace Virt.Node.Agent;

/// <summary>
/// Self-fence: what a node does when the cluster has let it go (it was downed, or a member quarantined it, which
/// happens to a node removed while it could not be reached). Its VMs will be started elsewhere once the others
/// have fenced it, so before its actor system ends it destroys every running domain that is Virt's (by the
/// domain's metadata, not by what the agent has been asked about: after a restart of virt-node that is not every
/// one), leaves any other domain alone, and takes no more domain work. An orderly stop (SIGTERM, leave) and a lost
/// libvirt or etcd connection are not that: the node stays, or hands its work off, and nothing is destroyed.
/// </summary>
internal static class SelfFence
{
    /// <summary>What the agent answers to every domain request once it has fenced itself.</summary>
    public const string Refusal = "this node was downed and has fenced itself; nothing was done";

    /// <summary>Why this node must fence itself, for a coordinated shutdown run for <paramref name="reason"/>; null when it must not.</summary>
    public static string? Cause(CoordinatedShutdown.Reason? reason) => reason switch
    {
        CoordinatedShutdown.ClusterDowningReason => "this node was downed by the cluster",
        Quarantined q => $"member {q.By} quarantined this node (the cluster removed it)",
        _ => null, // SIGTERM, leave, a failed join, ActorSystem.Terminate: an orderly end
    };

    /// <summary>Whether a domain's XML carries Virt's metadata (<see cref="DomainXml.MetadataNamespace"/>, managed-by virt).</summary>
    public static bool IsVirts(string domainXml)
    {
        XNamespace virt = DomainXml.MetadataNamespace;
        try
        {
            return XDocument.Parse(domainXml).Root?.Element("metadata")?.Elements(virt + "vm").Elements(virt + "managed-by").Any(e => e.Value.Trim() == "virt") == true;
        }
        catch (XmlException)
        {
            return false; // libvirt gave XML it wrote itself; unreadable is not Virt's
        }
    }

    /// <summary>
    /// Runs on the libvirt worker: every active Virt domain on <paramref name="connection"/> is destroyed (or, with
    /// <paramref name="destroy"/> false, only counted). A domain that cannot be read or destroyed is named in the
    /// answer and the others are still done.
    /// </summary>
    public static SelfFenced Apply(LibvirtConnection connection, bool destroy)
    {
        var (virts, others, failed) = (new List<string>(), 0, new List<string>());
        foreach (var domain in connection.ListDomains().Where(d => d.Id is not null)) // active: a QEMU process exists
        {
            try
            {
                if (!IsVirts(connection.Xml(domain.Name)))
                {
                    others++;
                    continue;
                }

                if (destroy)
                    connection.Destroy(domain.Name);
                virts.Add(domain.Name);
            }
            catch (DomainNotFoundException)
            {
                // gone meanwhile: nothing left to destroy
            }
            catch (LibvirtException ex) when (!ex.IsConnectionLost)
            {
                failed.Add($"{domain.Name}: {ex.LibvirtMessage}");
            }
        }

        return new SelfFenced(destroy, virts, others, failed, null);
    }

    /// <summary>The coordinated-shutdown reason Virt runs when a member quarantined this node (Akka.NET's cluster does not act on it).</summary>
    public sealed class Quarantined(Address by) : CoordinatedShutdown.Reason
    {
        public Address By { get; } = by;

        public override int ExitCode => SelfFenceTask.LostExitCode;

        public override string ToString() => $"Quarantined by {By}";
    }
}

/// <summary>Asks the node agent to fence itself: from now on it refuses every domain request; with <paramref name="Destroy"/> it destroys Virt's running domains.</summary>
internal sealed record FenceSelf(bool Destroy, string Cause);

/// <summary>
/// The agent's answer to <see cref="FenceSelf"/>: Virt's active domains (destroyed, or left running with
/// <paramref name="Destroyed"/> false), how many active domains were not Virt's (left alone), the ones that could
/// not be destroyed, and why nothing could be done at all (libvirt unreachable), if so.
/// </summary>
internal sealed record SelfFenced(bool Destroyed, IReadOnlyList<string> Virts, int Others, IReadOnlyList<string> Failed, string? Error);
