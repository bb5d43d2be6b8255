using System.Globalization;

namespace Virt.Scheduler;

/// <summary>A test over a node's attributes, for location rules.</summary>
public abstract record NodeExpression
{
    public abstract bool Holds(IReadOnlyDictionary<string, string> attributes);

    public abstract string Describe();
}

public enum AttributeOp
{
    Eq,
    Ne,
    Lt,
    Gt,
    In,
    Defined,
    NotDefined,
}

/// <summary>
/// One attribute test. <c>lt</c>/<c>gt</c> compare as numbers when both sides are numbers, else as text.
/// An attribute the node lacks makes every test false except <c>ne</c> and <c>not_defined</c>.
/// </summary>
public sealed record AttributeTest(string Attribute, AttributeOp Op, string? Value = null, IReadOnlyList<string>? Values = null) : NodeExpression
{
    public override bool Holds(IReadOnlyDictionary<string, string> attributes)
    {
        var present = attributes.TryGetValue(Attribute, out var actual);
        return Op switch
        {
            AttributeOp.Defined => present,
            AttributeOp.NotDefined => !present,
            AttributeOp.Eq => present && actual == Value,
            AttributeOp.Ne => !present || actual != Value,
            AttributeOp.In => present && Values!.Contains(actual!),
            AttributeOp.Lt => present && Compare(actual!, Value!) < 0,
            AttributeOp.Gt => present && Compare(actual!, Value!) > 0,
            _ => false,
        };
    }

    public override string Describe() => Op switch
    {
        AttributeOp.Defined => $"{Attribute} defined",
        AttributeOp.NotDefined => $"{Attribute} not_defined",
        AttributeOp.In => $"{Attribute} in [{string.Join(", ", Values!)}]",
        _ => $"{Attribute} {Op.ToString().ToLowerInvariant()} {Value}",
    };

    internal static int Compare(string a, string b) =>
        double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var y)
            ? x.CompareTo(y)
            : string.CompareOrdinal(a, b);
}

public sealed record AllOf(IReadOnlyList<NodeExpression> Terms) : NodeExpression
{
    public override bool Holds(IReadOnlyDictionary<string, string> attributes) => Terms.All(t => t.Holds(attributes));

    public override string Describe() => "(" + string.Join(" and ", Terms.Select(t => t.Describe())) + ")";
}

public sealed record AnyOf(IReadOnlyList<NodeExpression> Terms) : NodeExpression
{
    public override bool Holds(IReadOnlyDictionary<string, string> attributes) => Terms.Any(t => t.Holds(attributes));

    public override string Describe() => "(" + string.Join(" or ", Terms.Select(t => t.Describe())) + ")";
}
