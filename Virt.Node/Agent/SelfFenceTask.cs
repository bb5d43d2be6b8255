using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Remote;

namespace Virt.Node.Agent;

/// <summary>
/// Hooks <see cref="SelfFence"/> into Akka's coordinated shutdown. Akka runs it with
/// <see cref="CoordinatedShutdown.ClusterDowningReason"/> when this node learns it was downed (the cluster daemon
/// stops, <c>run-coordinated-shutdown-when-down</c>); Akka.NET's cluster does nothing when a member quarantines
/// this node (as it does to a node removed while unreachable, once that node talks again), so a watcher here runs
/// it with <see cref="SelfFence.Quarantined"/>. The task runs in the first phase, while libvirt is still connected
/// and before the actor system ends, asks the node agent to fence itself and waits for it (bounded); for any other
/// reason (SIGTERM, leave) it does nothing.
/// </summary>
internal static class SelfFenceTask
{
    public const string Phase = CoordinatedShutdown.PhaseBeforeServiceUnbind;

    /// <summary>How long the task waits for the agent. Destroying a QEMU domain takes well under a second (libvirt kills it after 10 s at worst).</summary>
    public static readonly TimeSpan Within = TimeSpan.FromSeconds(10);

    /// <summary>virt-node's exit status after a self-fence (2 is a start-up failure).</summary>
    public const int LostExitCode = 3;

    /// <summary>The phase's timeout (Akka's default is 5 s), a little over <see cref="Within"/> so the task reports before the phase gives up on it.</summary>
    public static string Hocon => $"akka.coordinated-shutdown.phases.{Phase}.timeout = {(long)(Within + TimeSpan.FromSeconds(2)).TotalMilliseconds}ms";

    public static void Register(ActorSystem system, IActorRef agent, bool destroys)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        var log = Logging.GetLogger(system, typeof(SelfFenceTask));
        system.ActorOf(Props.Create(() => new QuarantineWatch()), "self-fence-watch");
        shutdown.AddTask(Phase, "virt-self-fence", async () =>
        {
            if (SelfFence.Cause(shutdown.ShutdownReason) is not { } cause)
                return Done.Instance;
            log.Warning("{0}: it stops acting; self-fence = {1}", cause, destroys ? "destroy" : "none");
            try
            {
                var fenced = await agent.Ask<SelfFenced>(new FenceSelf(destroys, cause), Within);
                Report(log, fenced);
            }
            catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
            {
                log.Error("self-fence did not finish within {0} s: Virt's domains here may still run", Within.TotalSeconds);
            }

            log.Warning("virt-node exits with status {0} ({1}); started again, it joins as a new incarnation", LostExitCode, cause);
            return Done.Instance;
        });
    }

    /// <summary>0, or <see cref="LostExitCode"/> when the actor system ended because the cluster let this node go.</summary>
    public static int ExitCode(ActorSystem system) =>
        SelfFence.Cause(CoordinatedShutdown.Get(system).ShutdownReason) is null ? 0 : LostExitCode;

    private static void Report(ILoggingAdapter log, SelfFenced fenced)
    {
        var names = fenced.Virts.Count == 0 ? "" : $" ({string.Join(", ", fenced.Virts)})";
        if (fenced.Error is not null)
            log.Error("self-fence could not reach libvirt: {0}; Virt's domains here may still run", fenced.Error);
        else if (!fenced.Destroyed)
            log.Warning("self-fence = none: leaves {0} Virt domain(s) running{1}; {2} other domain(s) untouched", fenced.Virts.Count, names, fenced.Others);
        else if (fenced.Failed.Count > 0)
            log.Error("self-fence destroyed {0} Virt domain(s){1} but could not destroy {2}; {3} other domain(s) untouched", fenced.Virts.Count, names, string.Join("; ", fenced.Failed), fenced.Others);
        else
            log.Warning("self-fence destroyed {0} Virt domain(s){1}; {2} other domain(s) untouched", fenced.Virts.Count, names, fenced.Others);
    }

    /// <summary>Runs the shutdown with <see cref="SelfFence.Quarantined"/> when a member of this node's cluster quarantines it.</summary>
    private sealed class QuarantineWatch : ReceiveActor
    {
        public QuarantineWatch()
        {
            Receive<ThisActorSystemQuarantinedEvent>(e =>
            {
                var cluster = Akka.Cluster.Cluster.Get(Context.System);
                if (!cluster.State.Members.Any(m => m.Address.Equals(e.RemoteAddress)))
                    return; // not one of ours: it says nothing about this node's membership
                Context.GetLogger().Warning("member {0} quarantined this node: the cluster removed it", e.RemoteAddress);
                CoordinatedShutdown.Get(Context.System).Run(new SelfFence.Quarantined(e.RemoteAddress));
            });
        }

        protected override void PreStart() => Context.System.EventStream.Subscribe<ThisActorSystemQuarantinedEvent>(Self);
    }
}
