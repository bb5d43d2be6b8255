namespace Virt.Scheduler.Engine;

/// <summary>
/// Evaluates location expressions once per node, fast: each attribute is read once per node into a column, each
/// distinct attribute test is computed once over its column (a cluster has many rules over few tests such as
/// <c>rack eq r07</c>), and and/or combine the shared results. Agrees with <see cref="NodeExpression.Holds"/>.
/// </summary>
internal sealed class ExpressionTable(IReadOnlyList<NodeSpec> nodes)
{
    private readonly Dictionary<string, bool[]> _tests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?[]> _columns = new(StringComparer.Ordinal);

    public bool[] Evaluate(NodeExpression expression) => expression switch
    {
        AttributeTest test => Test(test),
        AllOf all => Combine(all.Terms, and: true),
        AnyOf any => Combine(any.Terms, and: false),
        _ => nodes.Select(n => expression.Holds(n.Attributes)).ToArray(),
    };

    private bool[] Test(AttributeTest test)
    {
        var key = $"{test.Attribute}\u0001{test.Op}\u0001{test.Value}\u0001{(test.Values is null ? "" : string.Join('\u0002', test.Values))}";
        if (_tests.TryGetValue(key, out var cached))
            return cached;
        var column = Column(test.Attribute);
        var holds = new bool[column.Length];
        var values = test.Values is null ? null : new HashSet<string>(test.Values, StringComparer.Ordinal);
        for (var i = 0; i < column.Length; i++)
        {
            var actual = column[i];
            holds[i] = test.Op switch
            {
                AttributeOp.Defined => actual is not null,
                AttributeOp.NotDefined => actual is null,
                AttributeOp.Eq => actual is not null && actual == test.Value,
                AttributeOp.Ne => actual is null || actual != test.Value,
                AttributeOp.In => actual is not null && values!.Contains(actual),
                AttributeOp.Lt => actual is not null && AttributeTest.Compare(actual, test.Value!) < 0,
                AttributeOp.Gt => actual is not null && AttributeTest.Compare(actual, test.Value!) > 0,
                _ => false,
            };
        }

        return _tests[key] = holds;
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
}
