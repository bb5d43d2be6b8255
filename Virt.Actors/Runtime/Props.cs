namespace Virt.Actors.Runtime;

/// <summary>How to make (and remake, on restart) an actor.</summary>
public sealed class Props
{
    private Props(Func<Actor> factory, Type actorType)
    {
        Factory = factory;
        ActorType = actorType;
    }

    internal Func<Actor> Factory { get; }

    public Type ActorType { get; }

    public static Props Create<T>(Func<T> factory)
        where T : Actor => new(factory, typeof(T));
}
