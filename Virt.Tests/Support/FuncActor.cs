using Virt.Actors.Runtime;

namespace Virt.Tests.Support;

/// <summary>An actor whose behaviour is a lambda, for runtime tests.</summary>
public sealed class FuncActor(Action<IActorContext, object> receive, Action<IActorContext>? preStart = null, Action<IActorContext>? postStop = null, SupervisorStrategy? strategy = null) : Actor
{
    public static Props Props(Action<IActorContext, object> receive, Action<IActorContext>? preStart = null, Action<IActorContext>? postStop = null, SupervisorStrategy? strategy = null) =>
        Virt.Actors.Runtime.Props.Create(() => new FuncActor(receive, preStart, postStop, strategy));

    protected override void OnReceive(object message) => receive(Context, message);

    protected override void PreStart() => preStart?.Invoke(Context);

    protected override void PostStop() => postStop?.Invoke(Context);

    protected override SupervisorStrategy SupervisorStrategy => strategy ?? base.SupervisorStrategy;
}
