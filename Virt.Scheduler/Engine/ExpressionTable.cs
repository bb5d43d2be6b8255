namespace Virt.Scheduler.Engine;

/// <summary>
/// Evaluates location expressions once per node, fast: each attribute is read once per node into a column, each
/// distinct attribute test is computed once over its column (a cluster has many rules over few tests such as
/// <c>rack eq r07</c>), date expressions once (they do not depend on the node), and and/or combine the shared
/// results. Agrees with <see cref="NodeExpression.Holds"/>.
/// </summary>
internal sealed class ExpressionTable(IReadOnlyList<NodeSpec> nodes, DateTimeOffset? now)
{
    private readonly Dictionary<AttributeTest, bool[]> _tests = new(new TestKey());
    private readonly Dictionary<string, string?[]> _columns = new(StringComparer.Ordinal);

    public bool[] Evaluate(NodeExpression expression) => expression switch
    {
        AttributeTest test => Test(test),
        AllOf all => Combine(all.Terms, and: true),
        AnyOf any => Combine(any.Terms, and: false),
        DateRange range => Constant(range.At(now)),
        DateSpec spec => Constant(spec.At(now)),
        _ => nodes.Select(n => expression.Holds(n.Attributes, now)).ToArray(),
    };

    private bool[] Constant(bool value)
    {
        var result = new bool[nodes.Count];
        Array.Fill(result, value);
        return result;
    }

    private bool[] Test(AttributeTest test)
    {
        if (_tests.TryGetValue(test, out var cached))
            return cached;
        var column = Column(test.Attribute);
        var holds = new bool[column.Length];
        for (var i = 0; i < column.Length; i++)
            holds[i] = test.Test(column[i]);
        return _tests[test] = holds;
    }

    private string?[] Column(string attribute)
    {
        if (!_columns.TryGetValue(attribute, out var column))
            _columns[attribute] = column = nodes.Select(n => n.Attributes.TryGetValue(attribute, out var v) ? v : null).ToArray();
        return column;
    }

    private bool[] Combine(IReadOnlyList<NodeExpression> terms, bool and)
    {
        var result = (bool[])Evaluate(terms[0]).Clone();
        foreach (var term in terms.Skip(1))
        {
            var next = Evaluate(term);
            for (var i = 0; i < result.Length; i++)
                result[i] = and ? result[i] && next[i] : result[i] || next[i];
        }

        return result;
    }

    /// <summary>Tests equal by content (the record's own equality compares the value list by reference).</summary>
    private sealed class TestKey : IEqualityComparer<AttributeTest>
    {
        public bool Equals(AttributeTest? a, AttributeTest? b) =>
            a!.Attribute == b!.Attribute && a.Op == b.Op && a.Value == b.Value && a.Type == b.Type
            && (a.Values is null ? b.Values is null : b.Values is not null && a.Values.SequenceEqual(b.Values));

        public int GetHashCode(AttributeTest t) => HashCode.Combine(t.Attribute, t.Op, t.Value, t.Type, t.Values?.Count ?? -1);
    }
}
