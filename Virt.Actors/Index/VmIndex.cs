using Akka.Actor;
using Akka.Pattern;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Virt.Actors.Persistence;
using Virt.Actors.Vm;

namespace Virt.Actors.Index;

/// <summary>
/// Every VM's state, folded from the journal's <c>vm</c>-tagged events with the same <see cref="VmDecider.Apply"/> the
/// entities use, so listing never asks the entities one by one and is right after any restart (the journal is the
/// truth). It reads from where it left off every refresh interval, and on demand for a listing: a listing is
/// answered by a read that started after the request arrived, so a VM created before the request is in it
/// (read-your-writes), whichever node wrote it.
/// </summary>
internal sealed class VmIndex : ReceiveActor, IWithTimers
{
    private const int Batch = 1000;
    private readonly Func<ICurrentEventsByTagQuery> _openJournal;
    private ICurrentEventsByTagQuery _journal = null!;
    private readonly VmDecider _decider;
    private readonly TimeSpan _refresh;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, VmState> _vms = new(StringComparer.Ordinal);
    private readonly HashSet<IActorRef> _subscribers = [];

    /// <summary>Listings answered when the read in flight ends; and those that arrived during it, for the next read.</summary>
    private List<IActorRef> _thisRead = [];
    private List<IActorRef> _nextRead = [];
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    private long _offset;
    private bool _reading;
    private bool _ready;

    public VmIndex(Func<ICurrentEventsByTagQuery> journal, VmDefaults defaults, TimeSpan refresh)
    {
        _openJournal = journal;
        _decider = new VmDecider(defaults);
        _refresh = refresh;

        Receive<VmIndexProtocol.List>(_ =>
        {
            (_reading ? _nextRead : _thisRead).Add(Sender);
            Read();
        });
        Receive<VmIndexProtocol.Subscribe>(s =>
        {
            _subscribers.Add(s.Subscriber);
            Context.Watch(s.Subscriber);
            if (_ready)
                s.Subscriber.Tell(new VmIndexProtocol.Snapshot(new Dictionary<string, VmState>(_vms)));
        });
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Receive<VmIndexProtocol.GetStatus>(_ => Sender.Tell(new VmIndexProtocol.Status(_ready, _vms.Values.Count(v => v.Exists), _offset)));
        Receive<Refresh>(_ => Read());
        Receive<ReadStarted>(_ => Sender.Tell(Ack.Instance));
        Receive<IReadOnlyList<EventEnvelope>>(batch =>
        {
            Fold(batch);
            Sender.Tell(Ack.Instance);
        });
        Receive<ReadDone>(_ => Finish());
        Receive<ReadFailed>(failed =>
        {
            _log.Warning("reading the journal for the VM index failed: {0}; retrying in {1} ms", failed.Cause.Message, _refresh.TotalMilliseconds);
            _reading = false;
            _nextRead.AddRange(_thisRead);
            _thisRead = [];
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// The index under a backoff supervisor: opening the read journal waits for the journal (its tables are created
    /// by whichever node starts first), and a failure there restarts the index later instead of failing the node.
    /// </summary>
    public static Props Props(Func<ICurrentEventsByTagQuery> journal, VmDefaults defaults, TimeSpan refresh) =>
        BackoffSupervisor.Props(Backoff.OnFailure(
            Akka.Actor.Props.Create(() => new VmIndex(journal, defaults, refresh)), "index", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15), 0.2));

    protected override void PreStart()
    {
        _journal = _openJournal();
        Timers.StartPeriodicTimer("refresh", Refresh.Instance, _refresh);
        Read();
    }

    private void Read()
    {
        if (_reading)
            return;
        _reading = true;
        _journal.CurrentEventsByTag(VmEventTagger.Tag, Offset.Sequence(_offset))
            .Grouped(Batch)
            .Select(batch => (IReadOnlyList<EventEnvelope>)batch.ToList())
            .RunWith(Sink.ActorRefWithAck<IReadOnlyList<EventEnvelope>>(Self, ReadStarted.Instance, Ack.Instance, ReadDone.Instance, ex => new ReadFailed(ex)), Context.Materializer());
    }

    private void Fold(IReadOnlyList<EventEnvelope> batch)
    {
        foreach (var envelope in batch)
        {
            if (envelope.Offset is Sequence { Value: var at } && at > _offset)
                _offset = at;
            if (envelope.Event is not VmEvent e || !envelope.PersistenceId.StartsWith(VmEntity.IdPrefix, StringComparison.Ordinal))
                continue;
            var name = envelope.PersistenceId[VmEntity.IdPrefix.Length..];
            _vms[name] = _decider.Apply(_vms.GetValueOrDefault(name, VmState.Absent), e);
            _changed.Add(name);
        }
    }

    private void Finish()
    {
        _reading = false;
        if (!_ready)
        {
            _ready = true;
            _log.Info("VM index current: {0} VM(s) at journal offset {1}", _vms.Values.Count(v => v.Exists), _offset);
            foreach (var s in _subscribers)
                s.Tell(new VmIndexProtocol.Snapshot(new Dictionary<string, VmState>(_vms)));
            _changed.Clear();
        }
        else if (_changed.Count > 0)
        {
            var changed = new VmIndexProtocol.Changed(_changed.Select(n => _vms[n]).ToList());
            foreach (var s in _subscribers)
                s.Tell(changed);
            _changed.Clear();
        }

        if (_thisRead.Count > 0)
        {
            var listing = new VmIndexProtocol.Listing(_vms.Values.Where(v => v.Exists).OrderBy(v => v.Spec!.Name, StringComparer.Ordinal).ToList(), _offset);
            foreach (var requester in _thisRead)
                requester.Tell(listing);
        }

        (_thisRead, _nextRead) = (_nextRead, []);
        if (_thisRead.Count > 0)
            Read();
    }

    private sealed class Refresh
    {
        public static readonly Refresh Instance = new();
    }

    private sealed class ReadStarted
    {
        public static readonly ReadStarted Instance = new();
    }

    private sealed class Ack
    {
        public static readonly Ack Instance = new();
    }

    private sealed class ReadDone
    {
        public static readonly ReadDone Instance = new();
    }

    private sealed record ReadFailed(Exception Cause);
}
