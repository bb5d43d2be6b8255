namespace Virt.Scheduler.Engine;

/// <summary>
/// Where "together" is decided for a colocation: per node, the index of its zone (the node itself, or the value of
/// the rule's node attribute), -1 for a node without the attribute (with nobody).
/// </summary>
internal sealed record Zones(string? Attribute, int[] Of, string[] Names)
{
    public int Count => Names.Length;

    /// <summary>"rack r1" or "n3", for explanations.</summary>
    public string Describe(int zone) => Attribute is null ? Names[zone] : $"{Attribute} {Names[zone]}";

    public string Unit => Attribute ?? "node";
}

internal sealed record CompiledLocation(LocationRule Rule, bool[] Holds);

/// <summary>At most <see cref="Limit"/> of <see cref="Members"/> per zone (a -INFINITY colocation; a directed one is a pair whose <see cref="Yielder"/> moves).</summary>
internal sealed record ApartSet(ColocationRule Rule, int[] Members, Zones Zones, int Limit, int Yielder);

/// <summary>A finite symmetric colocation: <see cref="Score"/> per other member in the same zone.</summary>
internal sealed record SoftSet(ColocationRule Rule, int[] Members, Zones Zones, double Score);

/// <summary>A directed colocation of <see cref="Dependent"/> with <see cref="Anchor"/>: INFINITY (<see cref="Score"/> infinite) or a finite preference.</summary>
internal sealed record Follow(ColocationRule Rule, int Dependent, int Anchor, Zones Zones, double Score)
{
    public bool NodeLevel => Zones.Attribute is null;
}

/// <summary>A symmetric INFINITY colocation by attribute: every running member in one zone.</summary>
internal sealed record SameZone(ColocationRule Rule, int[] Members, Zones Zones);

/// <summary><see cref="Then"/> starts after <see cref="First"/>.</summary>
internal sealed record StartOrder(OrderRule Rule, int Then, int First)
{
    public bool Mandatory => Rule.Mandatory;
}
