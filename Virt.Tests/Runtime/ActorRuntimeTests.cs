using Virt.Actors.Runtime;
using Virt.Tests.Support;

namespace Virt.Tests.Runtime;

public sealed class ActorRuntimeTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _time = new();
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("test", new ActorSystemOptions { Time = _time, Throughput = 5 });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _system.TerminateAsync().WaitAsync(TimeSpan.FromSeconds(10));

    private sealed record Ping;

    private sealed record Pong;

    /// <summary>Replies Pong to Ping, so tests can prove everything queued before has been handled.</summary>
    private static bool Barrier(IActorContext ctx, object message)
    {
        if (message is not Ping)
            return false;
        ctx.Sender.Tell(new Pong());
        return true;
    }

    [Fact]
    public async Task Messages_from_one_sender_are_handled_one_at_a_time_in_order()
    {
        var probe = new Probe();
        var inHandler = 0;
        var overlaps = 0;
        var seen = new List<int>();
        var actor = _system.ActorOf(FuncActor.Props((ctx, m) =>
        {
            if (Interlocked.Increment(ref inHandler) != 1)
                Interlocked.Increment(ref overlaps);
            if (m is int i)
            {
                seen.Add(i);
                if (i == 9_999)
                    probe.Tell(seen.ToArray());
            }

            Interlocked.Decrement(ref inHandler);
        }), "ordered");

        var senders = Enumerable.Range(0, 4).Select(_ => Task.Run(() => actor.Tell(new Ping()))).ToArray();
        for (var i = 0; i < 10_000; i++)
            actor.Tell(i);
        await Task.WhenAll(senders);

        var result = await probe.Expect<int[]>();
        Assert.Equal(Enumerable.Range(0, 10_000), result);
        Assert.Equal(0, overlaps);
    }

    [Fact]
    public async Task Ask_returns_the_reply_and_times_out_on_the_clock_naming_actor_and_message()
    {
        var silent = _system.ActorOf(FuncActor.Props((ctx, m) =>
        {
            if (m is string s)
                ctx.Sender.Tell(s.ToUpperInvariant());
        }), "silent");

        Assert.Equal("HI", await silent.Ask<string>("hi", TimeSpan.FromSeconds(5)));

        var pending = silent.Ask<string>(42, TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromMilliseconds(4_999));
        Assert.Equal("HI", await silent.Ask<string>("hi", TimeSpan.FromSeconds(5))); // barrier: 42 was handled
        Assert.False(pending.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var ex = await Assert.ThrowsAsync<AskTimeoutException>(() => pending);
        Assert.Contains("/user/silent", ex.Message);
        Assert.Contains("Int32", ex.Message);
        Assert.Contains("5000 ms", ex.Message);
    }

    [Fact]
    public async Task Ask_fails_with_the_replied_failure_and_at_once_when_the_target_is_stopped()
    {
        var failing = _system.ActorOf(FuncActor.Props((ctx, m) => ctx.Sender.Tell(new StatusFailure(new InvalidOperationException("no disk")))));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => failing.Ask<string>("x", TimeSpan.FromSeconds(5)));
        Assert.Equal("no disk", ex.Message);

        Assert.True(await _system.GracefulStop(failing, TimeSpan.FromSeconds(5)));
        var before = _system.DeadLetters.Count;
        await Assert.ThrowsAsync<ActorNotAvailableException>(() => failing.Ask<string>("x", TimeSpan.FromHours(1)));
        Assert.Equal(before + 1, _system.DeadLetters.Count);
    }

    private sealed class Flaky(Probe probe) : Actor
    {
        private int _count;

        protected override void PreStart() => probe.Tell("started");

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case "boom":
                    throw new InvalidOperationException("boom");
                case "count":
                    Sender.Tell(++_count);
                    break;
                case Ping:
                    Sender.Tell(new Pong());
                    break;
            }
        }
    }

    [Fact]
    public async Task A_failing_child_is_restarted_after_exponential_backoff_keeping_its_mailbox()
    {
        var probe = new Probe();
        var strategy = SupervisorStrategy.Default with
        {
            MinBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(3), MaxFailures = 10,
        };
        _system.ActorOf(FuncActor.Props(
            (ctx, m) => { },
            preStart: ctx => probe.Tell(ctx.ActorOf(Props.Create(() => new Flaky(probe)), "flaky")),
            strategy: strategy), "parent");
        var child = await probe.Expect<IActorRef>();
        await probe.Expect("started");

        child.Tell("count", probe);
        await probe.Expect(1);

        // First failure: restart after 1 s; the message sent meanwhile waits in the mailbox.
        child.Tell("boom");
        child.Tell("count", probe);
        await WaitForTimer(1);
        _time.Advance(TimeSpan.FromMilliseconds(999));
        probe.ExpectNothingQueued();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await probe.Expect("started");
        await probe.Expect(1); // fresh state after restart, and the queued message was kept

        // Second failure inside the window: backoff doubles to 2 s.
        child.Tell("boom");
        child.Tell("count", probe);
        await WaitForTimer(1);
        _time.Advance(TimeSpan.FromMilliseconds(1_999));
        probe.ExpectNothingQueued();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await probe.Expect("started");
        await probe.Expect(1);

        // Third: capped at MaxBackoff 3 s.
        child.Tell("boom");
        await WaitForTimer(1);
        _time.Advance(TimeSpan.FromMilliseconds(2_999));
        probe.ExpectNothingQueued();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await probe.Expect("started");
    }

    /// <summary>The restart timer is created by the parent on its own thread; wait until it exists.</summary>
    private async Task WaitForTimer(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_time.ActiveTimers < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"expected {count} pending timer(s), have {_time.ActiveTimers}");
            await Task.Yield();
        }
    }

    [Fact]
    public async Task Supervision_gives_up_after_too_many_failures_in_the_window_and_tells_the_parent()
    {
        var probe = new Probe();
        var strategy = SupervisorStrategy.Default with { MinBackoff = TimeSpan.Zero, MaxFailures = 2, Window = TimeSpan.FromMinutes(1) };
        _system.ActorOf(FuncActor.Props(
            (ctx, m) =>
            {
                if (m is ChildFailed or Terminated)
                    probe.Tell(m);
            },
            preStart: ctx =>
            {
                var child = ctx.ActorOf(Props.Create(() => new Flaky(probe)), "flaky");
                ctx.Watch(child);
                probe.Tell(child);
            },
            strategy: strategy), "parent");
        var child = await probe.Expect<IActorRef>();
        await probe.Expect("started");

        child.Tell("boom");
        await probe.Expect("started");
        child.Tell("boom");
        await probe.Expect("started");
        child.Tell("boom");

        var failed = await probe.Expect<ChildFailed>();
        Assert.Same(child, failed.Child);
        Assert.Equal(3, failed.Failures);
        Assert.Equal("boom", failed.Cause.Message);
        var terminated = await probe.Expect<Terminated>();
        Assert.Same(child, terminated.Actor);
    }

    [Fact]
    public async Task Failures_outside_the_window_are_forgotten()
    {
        var probe = new Probe();
        var strategy = SupervisorStrategy.Default with { MinBackoff = TimeSpan.Zero, MaxFailures = 1, Window = TimeSpan.FromSeconds(10) };
        _system.ActorOf(FuncActor.Props(
            (ctx, m) => probe.Tell(m),
            preStart: ctx => probe.Tell(ctx.ActorOf(Props.Create(() => new Flaky(probe)), "flaky")),
            strategy: strategy));
        var child = await probe.Expect<IActorRef>();
        await probe.Expect("started");

        child.Tell("boom");
        await probe.Expect("started");
        _time.Advance(TimeSpan.FromSeconds(11));
        child.Tell("boom");
        await probe.Expect("started"); // still restarted: the first failure left the window
        child.Tell(new Ping(), probe);
        await probe.Expect<Pong>();
    }

    [Fact]
    public async Task Single_timer_fires_once_at_its_due_time_and_periodic_every_interval()
    {
        var probe = new Probe();
        var actor = _system.ActorOf(FuncActor.Props((ctx, m) =>
        {
            if (Barrier(ctx, m))
                return;
            switch (m)
            {
                case "arm":
                    ctx.Timers.StartSingleTimer("once", "fired-once", TimeSpan.FromSeconds(2));
                    ctx.Timers.StartPeriodicTimer("tick", "tick", TimeSpan.FromSeconds(1));
                    ctx.Sender.Tell("armed");
                    break;
                case "stop-ticking":
                    ctx.Timers.Cancel("tick");
                    ctx.Sender.Tell("cancelled");
                    break;
                default:
                    probe.Tell(m);
                    break;
            }
        }));
        actor.Tell("arm", probe);
        await probe.Expect("armed");

        _time.Advance(TimeSpan.FromMilliseconds(999));
        actor.Tell(new Ping(), probe);
        await probe.Expect<Pong>();
        probe.ExpectNothingQueued();

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await probe.Expect("tick");
        _time.Advance(TimeSpan.FromSeconds(1));
        var two = new[] { await probe.Expect<string>(), await probe.Expect<string>() };
        Assert.Equal(["fired-once", "tick"], two.Order());

        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(["tick", "tick", "tick"], await probe.ExpectMany<string>(3));

        actor.Tell("stop-ticking", probe);
        await probe.Expect("cancelled");
        _time.Advance(TimeSpan.FromSeconds(10));
        actor.Tell(new Ping(), probe);
        await probe.Expect<Pong>();
        probe.ExpectNothingQueued();
    }

    [Fact]
    public async Task A_timer_cancelled_after_it_fired_but_before_delivery_is_not_delivered()
    {
        var probe = new Probe();
        var gate = new ManualResetEventSlim();
        var actor = _system.ActorOf(FuncActor.Props((ctx, m) =>
        {
            if (Barrier(ctx, m))
                return;
            switch (m)
            {
                case "arm":
                    ctx.Timers.StartSingleTimer("t", "late", TimeSpan.FromSeconds(1));
                    ctx.Sender.Tell("armed");
                    break;
                case "block":
                    gate.Wait(TimeSpan.FromSeconds(10));
                    break;
                case "cancel":
                    ctx.Timers.Cancel("t");
                    break;
                default:
                    probe.Tell(m);
                    break;
            }
        }));
        // The timer fires while the actor is busy, so its message is queued behind "cancel": it must be dropped.
        actor.Tell("arm", probe);
        await probe.Expect("armed");
        actor.Tell("block");
        actor.Tell("cancel");
        _time.Advance(TimeSpan.FromSeconds(1));
        gate.Set();
        actor.Tell(new Ping(), probe);
        await probe.Expect<Pong>();
        probe.ExpectNothingQueued();
    }

    [Fact]
    public async Task Timers_are_cancelled_when_the_actor_stops()
    {
        var actor = _system.ActorOf(FuncActor.Props(
            (ctx, m) => { },
            preStart: ctx => ctx.Timers.StartPeriodicTimer("t", "tick", TimeSpan.FromSeconds(1))));
        await WaitForTimer(1);
        Assert.True(await _system.GracefulStop(actor, TimeSpan.FromSeconds(5)));
        Assert.Equal(0, _time.ActiveTimers);
    }

    [Fact]
    public async Task Death_watch_delivers_Terminated_on_stop_and_at_once_for_an_actor_already_dead()
    {
        var probe = new Probe();
        var target = _system.ActorOf(FuncActor.Props((ctx, m) => { }), "target");
        var watcher = _system.ActorOf(FuncActor.Props((ctx, m) =>
        {
            if (m is IActorRef r)
            {
                ctx.Watch(r);
                ctx.Sender.Tell("watching");
            }
            else
            {
                probe.Tell(m);
            }
        }), "watcher");

        watcher.Tell(target, probe);
        await probe.Expect("watching");
        _system.Stop(target);
        Assert.Same(target, (await probe.Expect<Terminated>()).Actor);

        watcher.Tell(target, probe);
        await probe.Expect("watching");
        Assert.Same(target, (await probe.Expect<Terminated>()).Actor);
    }

    [Fact]
    public async Task Unwatch_suppresses_Terminated()
    {
        var probe = new Probe();
        var target = _system.ActorOf(FuncActor.Props((ctx, m) => { }));
        var watcher = _system.ActorOf(FuncActor.Props((ctx, m) =>
        {
            if (Barrier(ctx, m))
                return;
            if (m is "watch")
                ctx.Watch(target);
            else if (m is "unwatch")
                ctx.Unwatch(target);
            else
                probe.Tell(m);
        }));
        watcher.Tell("watch");
        watcher.Tell("unwatch");
        watcher.Tell(new Ping(), probe);
        await probe.Expect<Pong>();
        Assert.True(await _system.GracefulStop(target, TimeSpan.FromSeconds(5)));
        watcher.Tell(new Ping(), probe);
        await probe.Expect<Pong>();
        probe.ExpectNothingQueued();
    }

    [Fact]
    public async Task Stash_holds_messages_until_unstash_and_replays_them_in_order_before_newer_ones()
    {
        var probe = new Probe();
        var actor = _system.ActorOf(FuncActor.Props((ctx, m) =>
        {
            if (m is "open")
            {
                ctx.Become(msg => probe.Tell(msg));
                ctx.UnstashAll();
            }
            else
            {
                ctx.Stash();
            }
        }));
        for (var i = 0; i < 5; i++)
            actor.Tell(i);
        actor.Tell("open");
        actor.Tell(5);
        Assert.Equal([0, 1, 2, 3, 4, 5], await probe.ExpectMany<int>(6));
    }

    [Fact]
    public async Task Graceful_stop_stops_children_first_then_the_parent_and_frees_the_name()
    {
        var probe = new Probe();
        var parent = _system.ActorOf(FuncActor.Props(
            (ctx, m) => { },
            preStart: ctx =>
            {
                ctx.ActorOf(FuncActor.Props((_, _) => { }, postStop: c => probe.Tell("child-a stopped")), "a");
                ctx.ActorOf(FuncActor.Props((_, _) => { }, postStop: c => probe.Tell("child-b stopped")), "b");
            },
            postStop: ctx => probe.Tell("parent stopped")), "family");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_system.Lookup("/user/family/b") is null && DateTime.UtcNow < deadline)
            await Task.Yield();
        Assert.NotNull(_system.Lookup("/user/family/a"));
        Assert.Null(_system.Lookup("/user/family/zzz"));

        Assert.True(await _system.GracefulStop(parent, TimeSpan.FromSeconds(5)));
        var order = await probe.ExpectMany<string>(3);
        Assert.Equal("parent stopped", order[2]);
        Assert.Null(_system.Lookup("/user/family"));

        var again = _system.ActorOf(FuncActor.Props((_, _) => { }), "family");
        Assert.Equal("/user/family", again.Path.Value);
    }

    [Fact]
    public async Task PoisonPill_stops_after_the_messages_queued_before_it()
    {
        var probe = new Probe();
        var actor = _system.ActorOf(FuncActor.Props((ctx, m) => probe.Tell(m), postStop: _ => probe.Tell("stopped")));
        actor.Tell(1);
        actor.Tell(PoisonPill.Instance);
        actor.Tell(2);
        await probe.Expect(1);
        await probe.Expect("stopped");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_system.DeadLetters.Count < 1 && DateTime.UtcNow < deadline)
            await Task.Yield();
        Assert.Equal(1, _system.DeadLetters.Count); // the 2
    }

    [Fact]
    public async Task Names_are_validated_and_unique_among_siblings()
    {
        _system.ActorOf(FuncActor.Props((_, _) => { }), "dup");
        Assert.Throws<InvalidActorNameException>(() => _system.ActorOf(FuncActor.Props((_, _) => { }), "dup"));
        Assert.Throws<InvalidActorNameException>(() => _system.ActorOf(FuncActor.Props((_, _) => { }), "a/b"));
        Assert.Throws<InvalidActorNameException>(() => _system.ActorOf(FuncActor.Props((_, _) => { }), "$x"));
        var generated = _system.ActorOf(FuncActor.Props((_, _) => { }));
        Assert.StartsWith("/user/$", generated.Path.Value);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task PipeTo_turns_a_task_result_or_failure_into_a_message()
    {
        var probe = new Probe();
        var actor = _system.ActorOf(FuncActor.Props((ctx, m) =>
        {
            switch (m)
            {
                case "go":
                    Task.Run(async () =>
                    {
                        await Task.Yield();
                        return 41;
                    }).PipeTo(ctx.Self, success: r => r + 1);
                    Task.FromException<int>(new IOException("disk gone")).PipeTo(ctx.Self);
                    break;
                default:
                    probe.Tell(m);
                    break;
            }
        }));
        actor.Tell("go");
        var first = await probe.Expect<object>();
        var second = await probe.Expect<object>();
        var all = new[] { first, second };
        Assert.Contains(all, o => o is 42);
        Assert.Contains(all, o => o is StatusFailure { Cause: IOException { Message: "disk gone" } });
    }

    [Fact]
    public async Task A_constructor_that_throws_stops_the_actor_under_the_default_strategy()
    {
        var probe = new Probe();
        _system.ActorOf(FuncActor.Props(
            (ctx, m) => probe.Tell(m),
            preStart: ctx => ctx.Watch(ctx.ActorOf(Props.Create<FuncActor>(() => throw new InvalidOperationException("bad config")), "broken"))));
        var failed = await probe.Expect<ChildFailed>();
        Assert.IsType<ActorInitializationException>(failed.Cause);
        Assert.Contains("bad config", failed.Cause.Message);
        await probe.Expect<Terminated>();
    }

    [Fact]
    public void Creating_an_actor_with_new_is_refused_with_a_clear_error()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new FuncActor((_, _) => { }));
        Assert.Contains("ActorOf", ex.Message);
    }
}
