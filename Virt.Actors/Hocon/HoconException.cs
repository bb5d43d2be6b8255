namespace Virt.Hocon;

/// <summary>Where in which source a HOCON element starts (1-based line and column).</summary>
public readonly record struct HoconPosition(string Origin, int Line, int Column)
{
    public override string ToString() => Line > 0 ? $"{Origin}:{Line}:{Column}" : Origin;
}

/// <summary>A HOCON file could not be read or resolved. The message starts with file:line:column.</summary>
public sealed class HoconException(HoconPosition position, string problem) : Exception($"{position}: {problem}")
{
    public HoconPosition Position { get; } = position;

    public string Problem { get; } = problem;
}
