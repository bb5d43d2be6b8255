using System.Globalization;
using System.Xml.Linq;

namespace Virt.Scheduler;

/// <summary>
/// Writes a scenario as a Pacemaker CIB so <c>crm_simulate -x</c> can place the same VMs: node and resource
/// utilization, priorities, location rules, colocation scores, placement-strategy balanced (or minimal for pack).
/// VMs become Dummy primitives and every VM is exported as not yet running, so this compares initial placement.
/// Pacemaker's INFINITY location only prefers, so "only where it holds" is written as -INFINITY where it does not.
/// </summary>
public static class PacemakerCib
{
    public static string Export(PlacementProblem problem)
    {
        var policy = problem.Policy ?? new PlacementPolicy();
        var dims = problem.Nodes.SelectMany(n => n.Capacity.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var nodes = problem.Nodes.Select((n, i) => new XElement("node",
            new XAttribute("id", i + 1), new XAttribute("uname", n.Name),
            Pairs("instance_attributes", $"{n.Name}-attrs", n.Attributes.Select(a => (a.Key, a.Value))),
            Pairs("utilization", $"{n.Name}-utilization", dims.Select(d => (d, Int(n.Capacity.GetValueOrDefault(d) * (problem.Overcommit?.GetValueOrDefault(d, 1.0) ?? 1.0)))))));
        var resources = problem.Vms.Select(v => new XElement("primitive",
            new XAttribute("id", v.Name), new XAttribute("class", "ocf"), new XAttribute("provider", "heartbeat"), new XAttribute("type", "Dummy"),
            Pairs("meta_attributes", $"{v.Name}-meta", [("priority", v.Priority.ToString(CultureInfo.InvariantCulture))]),
            Pairs("utilization", $"{v.Name}-utilization", v.Demand.Select(d => (d.Key, Int(Math.Ceiling(d.Value)))))));
        var constraints = new List<XElement>();
        foreach (var rule in problem.Rules)
        {
            switch (rule)
            {
                case LocationRule l:
                    foreach (var vm in l.Vms)
                    {
                        var required = l.Score == Score.Infinity;
                        constraints.Add(new XElement("rsc_location",
                            new XAttribute("id", $"{l.Name}-{vm}"), new XAttribute("rsc", vm),
                            new XElement("rule", new XAttribute("id", $"{l.Name}-{vm}-rule"),
                                new XAttribute("score", required ? "-INFINITY" : Score.Format(l.Score)),
                                Expression(l.Expression, $"{l.Name}-{vm}-e", required, out var op),
                                op is null ? null : new XAttribute("boolean-op", op))));
                    }

                    break;
                case ColocationRule c when c.Score == Score.Infinity:
                    foreach (var vm in c.Vms.Skip(1))
                        constraints.Add(Colocation($"{c.Name}-{vm}", vm, c.Vms[0], c.Score));
                    break;
                case ColocationRule c:
                    for (var i = 0; i < c.Vms.Count; i++)
                    {
                        for (var j = i + 1; j < c.Vms.Count; j++)
                            constraints.Add(Colocation($"{c.Name}-{c.Vms[i]}-{c.Vms[j]}", c.Vms[i], c.Vms[j], c.Score));
                    }

                    break;
            }
        }

        var cib = new XElement("cib",
            new XAttribute("crm_feature_set", "3.16.2"), new XAttribute("validate-with", "pacemaker-3.9"),
            new XAttribute("epoch", 1), new XAttribute("num_updates", 0), new XAttribute("admin_epoch", 0), new XAttribute("have-quorum", "1"),
            new XElement("configuration",
                new XElement("crm_config", Pairs("cluster_property_set", "cib-bootstrap-options",
                [
                    ("stonith-enabled", "false"),
                    ("placement-strategy", policy.Strategy == PlacementStrategy.Pack ? "minimal" : "balanced"),
                    ("symmetric-cluster", "true"),
                    ("no-quorum-policy", "ignore"),
                ])),
                new XElement("nodes", nodes),
                new XElement("resources", resources),
                new XElement("constraints", constraints)),
            new XElement("status", problem.Nodes.Select((n, i) => n.State == NodeState.Up
                ? new XElement("node_state", new XAttribute("id", i + 1), new XAttribute("uname", n.Name), new XAttribute("in_ccm", "true"),
                    new XAttribute("crmd", "online"), new XAttribute("join", "member"), new XAttribute("expected", "member"))
                : null)));
        return cib.ToString();
    }

    private static XElement Colocation(string id, string rsc, string with, double score) =>
        new("rsc_colocation", new XAttribute("id", id), new XAttribute("rsc", rsc), new XAttribute("with-rsc", with), new XAttribute("score", Score.Format(score)));

    private static string Int(double value) => ((long)Math.Floor(value)).ToString(CultureInfo.InvariantCulture);

    private static XElement? Pairs(string element, string id, IEnumerable<(string Name, string Value)> pairs)
    {
        var list = pairs.ToList();
        return list.Count == 0
            ? null
            : new XElement(element, new XAttribute("id", id),
                list.Select(p => new XElement("nvpair", new XAttribute("id", $"{id}-{p.Name}"), new XAttribute("name", p.Name), new XAttribute("value", p.Value))));
    }

    /// <summary>
    /// Pacemaker rules hold one level of and/or over expressions; deeper nesting becomes nested rules.
    /// <paramref name="negate"/> writes the negation (De Morgan, and eq/ne, lt/gte, gt/lte, defined/not_defined).
    /// </summary>
    private static object Expression(NodeExpression e, string id, bool negate, out string? booleanOp)
    {
        booleanOp = null;
        switch (e)
        {
            case AttributeTest t:
                return Test(t, id, negate);
            case AllOf all:
                booleanOp = negate ? "or" : "and";
                return all.Terms.Select((x, i) => Nested(x, $"{id}-{i}", negate)).ToList();
            case AnyOf any:
                booleanOp = negate ? "and" : "or";
                return any.Terms.Select((x, i) => Nested(x, $"{id}-{i}", negate)).ToList();
            default:
                throw new ArgumentException($"unknown expression {e}");
        }
    }

    private static XElement Nested(NodeExpression e, string id, bool negate)
    {
        if (e is AttributeTest t)
            return Test(t, id, negate);
        var content = Expression(e, id, negate, out var op);
        return new XElement("rule", new XAttribute("id", id + "-rule"), new XAttribute("score", "0"), new XAttribute("boolean-op", op!), content);
    }

    private static XElement Test(AttributeTest t, string id, bool negate)
    {
        if (t.Op == AttributeOp.In)
        {
            return new XElement("rule", new XAttribute("id", id + "-in"), new XAttribute("score", "0"), new XAttribute("boolean-op", negate ? "and" : "or"),
                t.Values!.Select((v, i) => Simple(id + "-" + i, t.Attribute, negate ? "ne" : "eq", v)));
        }

        var op = (t.Op, negate) switch
        {
            (AttributeOp.Defined, false) or (AttributeOp.NotDefined, true) => "defined",
            (AttributeOp.NotDefined, false) or (AttributeOp.Defined, true) => "not_defined",
            (AttributeOp.Eq, false) or (AttributeOp.Ne, true) => "eq",
            (AttributeOp.Ne, false) or (AttributeOp.Eq, true) => "ne",
            (AttributeOp.Lt, false) => "lt",
            (AttributeOp.Lt, true) => "gte",
            (AttributeOp.Gt, false) => "gt",
            _ => "lte",
        };
        return Simple(id, t.Attribute, op, t.Op is AttributeOp.Defined or AttributeOp.NotDefined ? null : t.Value);
    }

    private static XElement Simple(string id, string attribute, string op, string? value) =>
        new("expression", new XAttribute("id", id), new XAttribute("attribute", attribute), new XAttribute("operation", op),
            value is null ? null : new XAttribute("value", value),
            value is not null && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? new XAttribute("type", "number") : null);
}
