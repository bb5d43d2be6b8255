using System.Collections.Immutable;
using Akka.Persistence.Journal;
using Virt.Actors.Vm;

namespace Virt.Actors.Persistence;

/// <summary>Tags every VM event <c>vm</c> on its way into the journal, for the VM index and the event history to query.</summary>
public sealed class VmEventTagger : IWriteEventAdapter
{
    public const string Tag = "vm";

    private static readonly IImmutableSet<string> Tags = ImmutableHashSet.Create(Tag);

    public string Manifest(object evt) => string.Empty;

    public object ToJournal(object evt) => evt is VmEvent ? new Tagged(evt, Tags) : evt;
}
