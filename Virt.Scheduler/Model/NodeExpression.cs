using System.Globalization;

namespace Virt.Scheduler;

/// <summary>A test over a node's attributes (and the scenario's <c>now</c>), for location rules.</summary>
public abstract record NodeExpression
{
    /// <param name="now">Needed only by date expressions (the scenario validates that it is there).</param>
    public abstract bool Holds(IReadOnlyDictionary<string, string> attributes, DateTimeOffset? now = null);

    public abstract string Describe();

    /// <summary>This expression and every one nested in it.</summary>
    public virtual IEnumerable<NodeExpression> Walk() => [this];
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
    Lte,
    Gte,
    NotIn,
}

/// <summary>How values compare. <see cref="Auto"/> is Pacemaker's default: lt/lte/gt/gte as integers (numbers when
/// either value has a decimal point), everything else as strings.</summary>
public enum AttributeType
{
    Auto,
    String,
    Integer,
    Number,
    Version,
}

/// <summary>
/// One attribute test, compared as Pacemaker compares: strings without regard to case; integers and numbers by
/// value, falling back to string comparison when a side does not read as one; versions by dot-separated numeric
/// segments (1.10 > 1.9, 2.0 = 2). An attribute the node lacks makes every test false except <c>ne</c>,
/// <c>not_in</c> and <c>not_defined</c>.
/// </summary>
public sealed record AttributeTest(string Attribute, AttributeOp Op, string? Value = null, IReadOnlyList<string>? Values = null, AttributeType Type = AttributeType.Auto)
    : NodeExpression
{
    public override bool Holds(IReadOnlyDictionary<string, string> attributes, DateTimeOffset? now = null) =>
        Test(attributes.TryGetValue(Attribute, out var actual) ? actual : null);

    /// <summary>The test on one node's value of <see cref="Attribute"/> (null: the node lacks it).</summary>
    public bool Test(string? actual)
    {
        if (actual is null)
            return Op is AttributeOp.NotDefined or AttributeOp.Ne or AttributeOp.NotIn;
        var type = Effective;
        return Op switch
        {
            AttributeOp.Defined => true,
            AttributeOp.NotDefined => false,
            AttributeOp.Eq => Same(actual, Value!, type),
            AttributeOp.Ne => !Same(actual, Value!, type),
            AttributeOp.In => Any(actual, type),
            AttributeOp.NotIn => !Any(actual, type),
            AttributeOp.Lt => Compare(actual, Value!, type) < 0,
            AttributeOp.Lte => Compare(actual, Value!, type) <= 0,
            AttributeOp.Gt => Compare(actual, Value!, type) > 0,
            AttributeOp.Gte => Compare(actual, Value!, type) >= 0,
            _ => false,
        };
    }

    private bool Any(string actual, AttributeType type)
    {
        foreach (var v in Values!)
        {
            if (Same(actual, v, type))
                return true;
        }

        return false;
    }

    private static bool Same(string a, string b, AttributeType type) =>
        type == AttributeType.String ? string.Equals(a, b, StringComparison.OrdinalIgnoreCase) : Compare(a, b, type) == 0;

    /// <summary>The type after Pacemaker's default; Auto resolves per comparison only by the rule's value here.</summary>
    private AttributeType Effective => Type != AttributeType.Auto
        ? Type
        : Op is AttributeOp.Lt or AttributeOp.Lte or AttributeOp.Gt or AttributeOp.Gte
            ? AttributeType.Auto // resolved in Compare, where both values are known
            : AttributeType.String;

    public static string OpName(AttributeOp op) => op switch
    {
        AttributeOp.NotDefined => "not_defined",
        AttributeOp.NotIn => "not_in",
        _ => op.ToString().ToLowerInvariant(),
    };

    public override string Describe()
    {
        var type = Type == AttributeType.Auto ? "" : $" ({Type.ToString().ToLowerInvariant()})";
        return Op switch
        {
            AttributeOp.Defined => $"{Attribute} defined",
            AttributeOp.NotDefined => $"{Attribute} not_defined",
            AttributeOp.In or AttributeOp.NotIn => $"{Attribute} {OpName(Op)} [{string.Join(", ", Values!)}]{type}",
            _ => $"{Attribute} {OpName(Op)} {Value}{type}",
        };
    }

    /// <summary>Pacemaker's comparison; <see cref="AttributeType.Auto"/> here means the lt/gt default (integer, or number with a decimal point).</summary>
    internal static int Compare(string a, string b, AttributeType type)
    {
        if (type == AttributeType.Auto)
            type = a.Contains('.') || b.Contains('.') ? AttributeType.Number : AttributeType.Integer;
        switch (type)
        {
            case AttributeType.Integer when long.TryParse(a.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var x)
                                             && long.TryParse(b.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var y):
                return x.CompareTo(y);
            case AttributeType.Number when double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
                                            && double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var y):
                return x.CompareTo(y);
            case AttributeType.Version:
                return CompareVersions(a, b);
            default:
                return Math.Sign(string.Compare(a, b, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>Leading <c>digits(.digits)*</c> of each side, segment by segment, the shorter padded with zeros; the rest is ignored.</summary>
    internal static int CompareVersions(string a, string b)
    {
        var x = Segments(a);
        var y = Segments(b);
        for (var i = 0; i < Math.Max(x.Count, y.Count); i++)
        {
            var c = (i < x.Count ? x[i] : 0).CompareTo(i < y.Count ? y[i] : 0);
            if (c != 0)
                return c;
        }

        return 0;

        static List<long> Segments(string s)
        {
            var result = new List<long>();
            var i = 0;
            while (i < s.Length && char.IsWhiteSpace(s[i]))
                i++;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                var start = i;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                    i++;
                result.Add(long.TryParse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : long.MaxValue);
                if (i + 1 < s.Length && s[i] == '.' && char.IsAsciiDigit(s[i + 1]))
                    i++;
                else
                    break;
            }

            return result;
        }
    }
}

public sealed record AllOf(IReadOnlyList<NodeExpression> Terms) : NodeExpression
{
    public override bool Holds(IReadOnlyDictionary<string, string> attributes, DateTimeOffset? now = null) => Terms.All(t => t.Holds(attributes, now));

    public override string Describe() => "(" + string.Join(" and ", Terms.Select(t => t.Describe())) + ")";

    public override IEnumerable<NodeExpression> Walk() => Terms.SelectMany(t => t.Walk()).Prepend(this);
}

public sealed record AnyOf(IReadOnlyList<NodeExpression> Terms) : NodeExpression
{
    public override bool Holds(IReadOnlyDictionary<string, string> attributes, DateTimeOffset? now = null) => Terms.Any(t => t.Holds(attributes, now));

    public override string Describe() => "(" + string.Join(" or ", Terms.Select(t => t.Describe())) + ")";

    public override IEnumerable<NodeExpression> Walk() => Terms.SelectMany(t => t.Walk()).Prepend(this);
}

/// <summary>Holds while <c>now</c> is within [<see cref="Start"/>, <see cref="End"/>], both ends included; either may be open.</summary>
public sealed record DateRange(DateTimeOffset? Start, DateTimeOffset? End) : NodeExpression
{
    public override bool Holds(IReadOnlyDictionary<string, string> attributes, DateTimeOffset? now = null) => At(now);

    public bool At(DateTimeOffset? now)
    {
        var t = now ?? throw new InvalidOperationException("a date expression needs the scenario's now");
        return (Start is not { } s || t >= s) && (End is not { } e || t <= e);
    }

    public override string Describe() => (Start, End) switch
    {
        ({ } s, { } e) => $"date from {Text(s)} to {Text(e)}",
        ({ } s, null) => $"date from {Text(s)}",
        _ => $"date to {Text(End!.Value)}",
    };

    internal static string Text(DateTimeOffset t) => t.ToString(t.Offset == TimeSpan.Zero ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
}

/// <summary>A calendar field of <see cref="DateSpec"/>, read in the offset of <c>now</c>.</summary>
public enum DateField
{
    Years,
    Months,
    Monthdays,
    Weekdays,
    Yeardays,
    Weeks,
    Hours,
    Minutes,
}

/// <summary>One field's inclusive range: hours 9-16 is 09:00 to 16:59; weekdays 1-5 is Monday to Friday (ISO, 7 = Sunday).</summary>
public sealed record DateSpecRange(DateField Field, int Low, int High)
{
    public static (int Min, int Max) Domain(DateField field) => field switch
    {
        DateField.Years => (1, 9999),
        DateField.Months => (1, 12),
        DateField.Monthdays => (1, 31),
        DateField.Weekdays => (1, 7),
        DateField.Yeardays => (1, 366),
        DateField.Weeks => (1, 53),
        DateField.Hours => (0, 23),
        _ => (0, 59),
    };

    public string Text => Low == High ? Low.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{Low}-{High}");
}

/// <summary>Holds when every given calendar field of <c>now</c> is in its range (Pacemaker's date_spec).</summary>
public sealed record DateSpec(IReadOnlyList<DateSpecRange> Ranges) : NodeExpression
{
    public override bool Holds(IReadOnlyDictionary<string, string> attributes, DateTimeOffset? now = null) => At(now);

    public bool At(DateTimeOffset? now)
    {
        var t = now ?? throw new InvalidOperationException("a date expression needs the scenario's now");
        return Ranges.All(r => Value(t, r.Field) is var v && v >= r.Low && v <= r.High);
    }

    public static int Value(DateTimeOffset t, DateField field) => field switch
    {
        DateField.Years => t.Year,
        DateField.Months => t.Month,
        DateField.Monthdays => t.Day,
        DateField.Weekdays => t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek,
        DateField.Yeardays => t.DayOfYear,
        DateField.Weeks => ISOWeek.GetWeekOfYear(t.DateTime),
        DateField.Hours => t.Hour,
        _ => t.Minute,
    };

    public override string Describe() => "date_spec " + string.Join(" ", Ranges.Select(r => $"{r.Field.ToString().ToLowerInvariant()} {r.Text}"));
}
