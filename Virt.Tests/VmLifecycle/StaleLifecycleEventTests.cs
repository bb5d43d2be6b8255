using Virt.Actors.Fsm;
using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;
using Virt.Actors.Runtime;
using Virt.Actors.Vm;
using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>
/// The node agent answers a VM directly, while lifecycle events reach it through the agent and the directory. A
/// restart's own shutdown event can therefore arrive after the answer to the new start; the VM must not take it for
/// a crash. Here a probe plays the agent, so the order is forced rather than hoped for.
/// </summary>
public sealed class StaleLifecycleEventTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TempDirectory _dir = new();
    private readonly Probe _agent = new();
    private ActorSystem _system = null!;
    private SqliteDatabase _db = null!;
    private SqliteJournal _journal = null!;
    private IActorRef _vms = null!;

    public async Task InitializeAsync()
    {
        _system = ActorSystem.Create("stale");
        var serializer = VmSerialization.Register(new EventSerializer());
        _db = new SqliteDatabase(new SqlitePersistenceOptions { Path = _dir.File("j.db") });
        _journal = new SqliteJournal(_db, serializer);
        var host = new VmHost("n1", new VmDefaults { RestartBackoff = TimeSpan.FromMinutes(5) }, _journal, new SqliteSnapshotStore(_db, serializer), _agent);
        _vms = _system.ActorOf(VmDirectory.Props(host), "vms");
        var spec = new VmSpec("web-1", Guid.NewGuid(), 1, 1024, [], []);
        await Command(new VmCommand.Define(spec));
    }

    public async Task DisposeAsync()
    {
        await _system.TerminateAsync().WaitAsync(Wait);
        await _journal.DisposeAsync();
        _db.Dispose();
        _dir.Dispose();
    }

    private async Task<VmState> Command(VmCommand command)
    {
        var result = await _vms.Ask<CommandResult<VmState, VmEvent>>(new VmProtocol.ToVm("web-1", command), Wait);
        Assert.True(result.Accepted, result.Reason);
        return result.State;
    }

    private async Task<VmView> View() => await _vms.Ask<VmView>(new VmProtocol.GetVm("web-1"), Wait);

    /// <summary>Plays the agent: takes the next request of type <typeparamref name="T"/> and answers it as done.</summary>
    private async Task<T> Answer<T>(long seen, bool stoppedNow = false)
        where T : DomainRequest
    {
        var request = await _agent.Expect<T>(Wait);
        var kind = request is StartDomain ? "start" : "stop";
        _agent.LastSender!.Tell(new DomainRequestDone("web-1", request.Op, kind, DomainOutcome.Done, StoppedNow: stoppedNow, Seen: seen));
        return request;
    }

    private Task<VmView> WaitFor(VmPhase phase) => Eventually.Until(View, v => v.State == phase, $"web-1 is {phase}", Wait.TotalSeconds);

    [Fact]
    public async Task A_restarts_own_shutdown_event_arriving_after_the_new_start_is_not_a_crash()
    {
        await Command(new VmCommand.Start());
        await Answer<StartDomain>(seen: 1);
        await WaitFor(VmPhase.Running);

        await Command(new VmCommand.Restart());
        await Answer<StopDomain>(seen: 2, stoppedNow: true);
        await Answer<StartDomain>(seen: 3);
        await WaitFor(VmPhase.Running);

        // The shutdown the restart caused, verified by the agent before the new start: seen 2.
        _vms.Tell(new DomainStateChanged("web-1", false, "shutdown", Seen: 2));
        // A start of a running VM changes nothing, and its answer comes from the VM after it handled the event.
        var state = await Command(new VmCommand.Start());
        Assert.Equal((VmPhase.Running, 0), (state.Phase, state.Restarts.Count));
        _agent.ExpectNothingQueued();
    }

    [Fact]
    public async Task A_crash_seen_after_the_last_answer_is_a_crash()
    {
        await Command(new VmCommand.Start());
        await Answer<StartDomain>(seen: 1);
        await WaitFor(VmPhase.Running);

        _vms.Tell(new DomainStateChanged("web-1", false, "destroyed", Seen: 2));
        var view = await WaitFor(VmPhase.Recovering);
        Assert.Equal(1, view.RestartsInWindow);
        Assert.Contains("killed outside Virt", view.FailureReasons[^1]);
    }
}
