using Virt.Scheduler;
using static Virt.Tests.Scheduler.Scenarios;

namespace Virt.Tests.Scheduler;

/// <summary>Typed comparisons, sets, and date rules at the scenario's now, compared as Pacemaker compares.</summary>
public sealed class ExpressionTests
{
    private static bool Holds(NodeExpression e, params (string, string)[] attrs) => e.Holds(attrs.ToDictionary(a => a.Item1, a => a.Item2));

    private static AttributeTest Typed(string attribute, AttributeOp op, string value, AttributeType type) => new(attribute, op, value, Type: type);

    [Theory]
    [InlineData("10", AttributeOp.Gt, "9", AttributeType.Integer, true)]
    [InlineData("10", AttributeOp.Gt, "9", AttributeType.String, false)] // "1" < "9"
    [InlineData("10", AttributeOp.Gt, "9", AttributeType.Auto, true)] // lt/gt default: integer
    [InlineData("2.5", AttributeOp.Lt, "10", AttributeType.Auto, true)] // a decimal point: number
    [InlineData("2.5", AttributeOp.Lt, "10", AttributeType.Number, true)]
    [InlineData("01", AttributeOp.Eq, "1", AttributeType.Integer, true)]
    [InlineData("01", AttributeOp.Eq, "1", AttributeType.Auto, false)] // eq default: string
    [InlineData("6.10", AttributeOp.Gt, "6.9", AttributeType.Version, true)]
    [InlineData("6.10", AttributeOp.Gt, "6.9", AttributeType.Number, false)]
    [InlineData("6.1", AttributeOp.Eq, "6.1.0", AttributeType.Version, true)]
    [InlineData("6.1", AttributeOp.Gte, "6.1.1", AttributeType.Version, false)]
    [InlineData("6.1.1", AttributeOp.Lte, "6.2", AttributeType.Version, true)]
    [InlineData("R1", AttributeOp.Eq, "r1", AttributeType.Auto, true)] // strings without regard to case
    [InlineData("abc", AttributeOp.Gt, "5", AttributeType.Integer, true)] // not an integer: compared as text ("a" > "5")
    public void Comparisons_by_type(string actual, AttributeOp op, string value, AttributeType type, bool expected) =>
        Assert.Equal(expected, Holds(Typed("v", op, value, type), ("v", actual)));

    [Fact]
    public void Sets_and_a_missing_attribute()
    {
        var notIn = new AttributeTest("rack", AttributeOp.NotIn, Values: ["r1", "r2"]);
        Assert.True(Holds(notIn, ("rack", "r3")));
        Assert.False(Holds(notIn, ("rack", "R2")));
        Assert.True(Holds(notIn)); // missing: in no set
        var inInts = new AttributeTest("gen", AttributeOp.In, Values: ["9", "10"], Type: AttributeType.Integer);
        Assert.True(Holds(inInts, ("gen", "010")));
        Assert.False(Holds(new AttributeTest("gen", AttributeOp.Lte, "10"))); // missing fails every comparison
        Assert.False(Holds(new AttributeTest("gen", AttributeOp.Gte, "10")));
    }

    [Fact]
    public void A_date_range_includes_both_ends_and_may_be_open()
    {
        var start = DateTimeOffset.Parse("2026-12-24T00:00:00Z");
        var end = DateTimeOffset.Parse("2026-12-26T23:59:59Z");
        var range = new DateRange(start, end);
        Assert.True(range.Holds(new Dictionary<string, string>(), start));
        Assert.True(range.Holds(new Dictionary<string, string>(), end));
        Assert.False(range.Holds(new Dictionary<string, string>(), end.AddSeconds(1)));
        Assert.True(new DateRange(start, null).Holds(new Dictionary<string, string>(), start.AddYears(5)));
        Assert.False(new DateRange(null, end).Holds(new Dictionary<string, string>(), end.AddDays(1)));
    }

    [Fact]
    public void A_date_spec_reads_weekdays_and_hours_in_the_offset_of_now()
    {
        var officeHours = new DateSpec([new DateSpecRange(DateField.Weekdays, 1, 5), new DateSpecRange(DateField.Hours, 9, 16)]);
        var none = new Dictionary<string, string>();
        Assert.True(officeHours.Holds(none, DateTimeOffset.Parse("2026-12-07T16:59:00Z"))); // Monday, 16:59
        Assert.False(officeHours.Holds(none, DateTimeOffset.Parse("2026-12-07T17:00:00Z")));
        Assert.False(officeHours.Holds(none, DateTimeOffset.Parse("2026-12-05T10:00:00Z"))); // Saturday
        // Sunday 23:30 UTC is Monday 09:30 in +10:00.
        Assert.True(officeHours.Holds(none, DateTimeOffset.Parse("2026-12-06T23:30:00Z").ToOffset(TimeSpan.FromHours(10))));
        Assert.Throws<InvalidOperationException>(() => officeHours.Holds(none));
    }

    [Fact]
    public void A_location_rule_with_a_date_changes_the_plan_with_now()
    {
        // Weekends the batch job may use the production rack.
        var nodes = new[] { Host("prod", vcpu: 64, attrs: ("rack", "prod")), Host("lab", vcpu: 8, attrs: ("rack", "lab")) };
        var rule = new LocationRule("prod-at-weekends", ["batch"], Score.Infinity,
            new AnyOf([Attr("rack", AttributeOp.Eq, "lab"), new DateSpec([new DateSpecRange(DateField.Weekdays, 6, 7)])]));
        var weekday = Plan(Problem(nodes, [Vm("batch")], [rule], now: DateTimeOffset.Parse("2026-12-09T12:00:00Z")));
        Assert.Equal("lab", weekday.To("batch"));
        var saturday = Plan(Problem(nodes, [Vm("batch")], [rule], now: DateTimeOffset.Parse("2026-12-12T12:00:00Z")));
        Assert.Equal("prod", saturday.To("batch"));
        Assert.Equal("rule prod-at-weekends (INFINITY) needs (rack eq lab or date_spec weekdays 6-7)",
            Plan(Problem(nodes.Take(1), [Vm("batch")], [rule], now: DateTimeOffset.Parse("2026-12-09T12:00:00Z"))).ReasonsFor("batch")["prod"]);
    }

    [Fact]
    public void Typed_rules_place_by_value()
    {
        var nodes = new[] { Host("old", vcpu: 64, attrs: ("kernel", "6.9.2")), Host("new", attrs: ("kernel", "6.10")) };
        var rule = new LocationRule("kernel-6.10", ["vm"], Score.Infinity, Typed("kernel", AttributeOp.Gte, "6.10", AttributeType.Version));
        Assert.Equal("new", Plan(Problem(nodes, [Vm("vm")], [rule])).To("vm"));
    }
}
