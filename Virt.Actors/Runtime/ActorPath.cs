namespace Virt.Actors.Runtime;

/// <summary>Hierarchical name of an actor, e.g. <c>/user/vms/web-1</c>.</summary>
public sealed record ActorPath
{
    private ActorPath(string value, string name)
    {
        Value = value;
        Name = name;
    }

    public static ActorPath Root { get; } = new("/", "");

    public string Value { get; }

    public string Name { get; }

    public ActorPath Child(string name) => new(Value == "/" ? "/" + name : Value + "/" + name, name);

    /// <summary>Splits an absolute path into its element names (<c>/user/a</c> gives user, a).</summary>
    public static string[] Elements(string path)
    {
        if (!path.StartsWith('/'))
            throw new ArgumentException($"actor path '{path}' must be absolute, like /user/name", nameof(path));
        return path.Split('/', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Names are single path elements: not empty, no '/', and '$' is reserved for generated names.</summary>
    internal static void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new InvalidActorNameException("actor name must not be empty");
        if (name.Contains('/') || name.Any(char.IsWhiteSpace))
            throw new InvalidActorNameException($"actor name '{name}' must not contain '/' or whitespace");
        if (name.StartsWith('$'))
            throw new InvalidActorNameException($"actor name '{name}' must not start with '$' (reserved for generated names)");
    }

    public override string ToString() => Value;
}

public sealed class InvalidActorNameException(string message) : Exception(message);
