using System.Globalization;
using System.Xml.Linq;

namespace Virt.Scheduler;

/// <summary>
/// Writes a scenario as a Pacemaker CIB so <c>crm_simulate -x</c> can plan the same situation: node and resource
/// utilization, priorities, every rule kind, per-VM and default migration-threshold / failure-timeout, stickiness,
/// running VMs (a successful start in the node's history) and their failure counts. VMs are Dummy primitives that
/// may live-migrate. The action becomes the cluster's state: evacuated nodes are in standby, failed ones offline.
/// Differences the CIB cannot express are written into it as comments (see <see cref="Gaps"/>).
/// <list type="bullet">
/// <item>Pacemaker's INFINITY location only prefers, so "only where it holds" is -INFINITY where it does not.</item>
/// <item>A spread limit (at most K per node) is a utilization dimension of capacity K; per attribute value it has no
/// equivalent.</item>
/// <item>Pacemaker always forbids negative totals: negative_score_forbids false cannot be expressed.</item>
/// <item>Stickiness is at least 1, so that running VMs do not move for load alone (Virt's never do outside rebalance).</item>
/// <item>Draining nodes are in standby (Pacemaker moves their VMs away; Virt keeps them until evacuated).</item>
/// </list>
/// Date rules are evaluated at <see cref="ReferenceTime"/>: run <c>crm_simulate -t</c> with it.
/// </summary>
public static class PacemakerCib
{
    private static readonly DateTimeOffset DefaultTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The digest Pacemaker records for a resource without parameters; without it a running VM is restarted ("parameters changed").</summary>
    private const string NoParametersDigest = "f2317cad3d54cec5d7d7aa7d0bf35cf8";

    /// <summary>The moment the CIB's date rules and failure times assume: the scenario's now, or a fixed date.</summary>
    public static DateTimeOffset ReferenceTime(PlacementProblem problem) => problem.Now ?? DefaultTime;

    /// <summary>What the export had to leave out or approximate, one line each.</summary>
    public static IReadOnlyList<string> Gaps(PlacementProblem problem)
    {
        var gaps = new List<string>();
        var policy = problem.Policy ?? new PlacementPolicy();
        if (!policy.NegativeScoreForbids)
            gaps.Add("negative_score_forbids is false, but Pacemaker always keeps a resource off a node with a negative total");
        foreach (var c in problem.Rules.OfType<ColocationRule>().Where(c => c.AtMost > 1 && c.NodeAttribute is not null))
            gaps.Add($"rule {c.Name}: at most {c.AtMost} per {c.NodeAttribute} has no Pacemaker equivalent; not exported");
        if (problem.Nodes.Any(n => n.State == NodeState.Draining))
            gaps.Add("draining nodes are exported in standby: Pacemaker moves their VMs away at once");
        if (problem.ReserveFailures > 0)
            gaps.Add($"reserve_failures {problem.ReserveFailures}: Pacemaker holds no room for failover (no N+X)");
        if (problem.Action is PlanAction.Repair { Unplaceable: Unplaceable.Keep } or PlanAction.Evacuate { Unplaceable: Unplaceable.Keep })
            gaps.Add("unplaceable keep: Pacemaker stops what can run nowhere");
        return gaps;
    }

    public static string Export(PlacementProblem problem)
    {
        var policy = problem.Policy ?? new PlacementPolicy();
        var now = ReferenceTime(problem);
        var spread = problem.Rules.OfType<ColocationRule>().Where(c => c.AtMost > 1 && c.NodeAttribute is null).ToList();
        var dims = problem.Nodes.SelectMany(n => n.Capacity.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var (standby, offline) = Closed(problem);
        var nodes = problem.Nodes.Select((n, i) => new XElement("node",
            new XAttribute("id", i + 1), new XAttribute("uname", n.Name),
            Pairs("instance_attributes", $"{n.Name}-attrs", n.Attributes.Select(a => (a.Key, a.Value)).Concat(standby.Contains(n.Name) ? [("standby", "on")] : [])),
            Pairs("utilization", $"{n.Name}-utilization",
                dims.Select(d => (d, Int(n.Capacity.GetValueOrDefault(d) * (problem.Overcommit?.GetValueOrDefault(d, 1.0) ?? 1.0))))
                    .Concat(spread.Select(c => (SpreadDimension(c), c.AtMost!.Value.ToString(CultureInfo.InvariantCulture)))))));
        var resources = problem.Vms.Select(v => new XElement("primitive",
            new XAttribute("id", v.Name), new XAttribute("class", "ocf"), new XAttribute("provider", "heartbeat"), new XAttribute("type", "Dummy"),
            Pairs("meta_attributes", $"{v.Name}-meta", Meta(v)),
            Pairs("utilization", $"{v.Name}-utilization", v.Demand.Select(d => (d.Key, Int(Math.Ceiling(d.Value))))
                .Concat(spread.Where(c => c.Vms.Contains(v.Name)).Select(c => (SpreadDimension(c), "1"))))));
        var constraints = new List<object>();
        foreach (var rule in problem.Rules)
            constraints.AddRange(Constraints(rule, problem));

        var cib = new XElement("cib",
            new XAttribute("crm_feature_set", "3.16.2"), new XAttribute("validate-with", "pacemaker-3.9"),
            new XAttribute("epoch", 1), new XAttribute("num_updates", 0), new XAttribute("admin_epoch", 0), new XAttribute("have-quorum", "1"),
            Gaps(problem).Select(g => new XComment($" not as in Virt: {g} ")),
            new XComment($" date rules and failure times assume crm_simulate -t {Iso(now)} "),
            new XElement("configuration",
                new XElement("crm_config", Pairs("cluster_property_set", "cib-bootstrap-options",
                [
                    ("stonith-enabled", "false"),
                    ("placement-strategy", policy.Strategy == PlacementStrategy.Pack ? "minimal" : "balanced"),
                    ("symmetric-cluster", "true"),
                    ("no-quorum-policy", "ignore"),
                    ("start-failure-is-fatal", "false"),
                ])),
                new XElement("nodes", nodes),
                new XElement("resources", resources),
                new XElement("constraints", constraints),
                new XElement("rsc_defaults", Pairs("meta_attributes", "rsc-options",
                [
                    ("resource-stickiness", Int(Math.Max(1, policy.Stickiness))),
                    ("migration-threshold", policy.MigrationThreshold.ToString(CultureInfo.InvariantCulture)),
                    ("failure-timeout", Seconds(policy.FailureTimeoutSeconds)),
                ]))),
            new XElement("status", problem.Nodes.Select((n, i) => offline.Contains(n.Name) ? null : OnlineNode(problem, n, i + 1, now))));
        return cib.ToString();
    }

    /// <summary>Nodes in standby (draining, being evacuated) and offline (maintenance, down, failing).</summary>
    private static (HashSet<string> Standby, HashSet<string> Offline) Closed(PlacementProblem problem)
    {
        var standby = problem.Nodes.Where(n => n.State == NodeState.Draining).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var offline = problem.Nodes.Where(n => n.State is NodeState.Maintenance or NodeState.Down).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        if (problem.Action is PlanAction.Evacuate e)
            standby.UnionWith(e.Nodes);
        if (problem.Action is PlanAction.Fail f)
            offline.UnionWith(f.Nodes);
        return (standby, offline);
    }

    private static IEnumerable<(string, string)> Meta(VmSpec v)
    {
        yield return ("priority", v.Priority.ToString(CultureInfo.InvariantCulture));
        yield return ("allow-migrate", "true");
        if (v.MigrationThreshold is { } mt)
            yield return ("migration-threshold", mt.ToString(CultureInfo.InvariantCulture));
        if (v.FailureTimeoutSeconds is { } ft)
            yield return ("failure-timeout", Seconds(ft));
    }

    private static IEnumerable<object> Constraints(PlacementRule rule, PlacementProblem problem)
    {
        switch (rule)
        {
            case LocationRule l:
                foreach (var vm in l.Vms)
                {
                    var required = l.Score == Score.Infinity;
                    var content = Expression(l.Expression, $"{l.Name}-{vm}-e", required, out var op);
                    yield return new XElement("rsc_location",
                        new XAttribute("id", $"{l.Name}-{vm}"), new XAttribute("rsc", vm),
                        new XElement("rule", new XAttribute("id", $"{l.Name}-{vm}-rule"),
                            new XAttribute("score", required ? "-INFINITY" : Score.Format(l.Score)),
                            op is null ? null : new XAttribute("boolean-op", op), content));
                }

                break;
            case ColocationRule { With: { } anchor } c:
                foreach (var vm in c.Vms)
                    yield return Colocation($"{c.Name}-{vm}", vm, anchor, c.Score, c.NodeAttribute);
                break;
            case ColocationRule { AtMost: > 1 } c:
                if (c.NodeAttribute is null)
                    yield return new XComment($" rule {c.Name}: at most {c.AtMost} per node is the utilization dimension {SpreadDimension(c)} ");
                break;
            case ColocationRule c when c.Score == Score.Infinity:
            {
                var members = Ranked(c.Vms, problem);
                foreach (var vm in members.Skip(1))
                    yield return Colocation($"{c.Name}-{vm}", vm, members[0], c.Score, c.NodeAttribute);
                break;
            }

            case ColocationRule c:
            {
                // Pacemaker's rsc yields to its with-rsc: the one Virt keeps (running, then higher priority) is the with-rsc.
                var members = Ranked(c.Vms, problem);
                for (var i = 0; i < members.Count; i++)
                {
                    for (var j = i + 1; j < members.Count; j++)
                        yield return Colocation($"{c.Name}-{members[j]}-{members[i]}", members[j], members[i], c.Score, c.NodeAttribute);
                }

                break;
            }
            case OrderRule o:
                var groups = problem.Vms.Where(v => v.Group is not null).GroupBy(v => v.Group!).ToDictionary(g => g.Key, g => g.Select(v => v.Name).ToList());
                IEnumerable<string> Members(string name) => groups.TryGetValue(name, out var g) ? g : [name];
                foreach (var then in o.Vms.SelectMany(Members).Distinct())
                {
                    foreach (var first in o.StartAfter.SelectMany(Members).Distinct().Where(f => f != then))
                    {
                        yield return new XElement("rsc_order", new XAttribute("id", $"{o.Name}-{first}-{then}"),
                            new XAttribute("first", first), new XAttribute("then", then),
                            new XAttribute("kind", o.Mandatory ? "Mandatory" : "Optional"), new XAttribute("symmetrical", "false"));
                    }
                }

                break;
        }
    }

    /// <summary>A node online, with the VMs that run on it (a successful start) and their failure counts.</summary>
    private static XElement OnlineNode(PlacementProblem problem, NodeSpec n, int id, DateTimeOffset now)
    {
        var running = problem.Vms.Where(v => v.Node == n.Name).ToList();
        var failed = problem.Vms.Where(v => v.Failures?.ContainsKey(n.Name) == true).ToList();
        var epoch = now.ToUnixTimeSeconds();
        var call = 0;
        return new XElement("node_state", new XAttribute("id", id), new XAttribute("uname", n.Name), new XAttribute("in_ccm", "true"),
            new XAttribute("crmd", "online"), new XAttribute("join", "member"), new XAttribute("expected", "member"),
            running.Count == 0 ? null : new XElement("lrm", new XAttribute("id", id), new XElement("lrm_resources", running.Select(v =>
                new XElement("lrm_resource", new XAttribute("id", v.Name), new XAttribute("type", "Dummy"), new XAttribute("class", "ocf"), new XAttribute("provider", "heartbeat"),
                    new XElement("lrm_rsc_op", new XAttribute("id", $"{v.Name}_last_0"), new XAttribute("operation_key", $"{v.Name}_start_0"),
                        new XAttribute("operation", "start"), new XAttribute("crm-debug-origin", "virt-plan"), new XAttribute("crm_feature_set", "3.16.2"),
                        new XAttribute("op-digest", NoParametersDigest),
                        new XAttribute("transition-key", $"{++call}:0:0:00000000-0000-0000-0000-000000000000"),
                        new XAttribute("transition-magic", $"0:0;{call}:0:0:00000000-0000-0000-0000-000000000000"),
                        new XAttribute("call-id", call), new XAttribute("rc-code", 0), new XAttribute("op-status", 0), new XAttribute("interval", 0),
                        new XAttribute("last-rc-change", epoch), new XAttribute("exec-time", 0), new XAttribute("queue-time", 0)))))),
            failed.Count == 0 ? null : new XElement("transient_attributes", new XAttribute("id", id),
                Pairs("instance_attributes", $"status-{id}", failed.SelectMany(v =>
                {
                    var h = v.Failures![n.Name];
                    return new[]
                    {
                        ($"fail-count-{v.Name}#start_0", h.Count.ToString(CultureInfo.InvariantCulture)),
                        ($"last-failure-{v.Name}#start_0", (epoch - (long)h.LastSecondsAgo).ToString(CultureInfo.InvariantCulture)),
                    };
                }))));
    }

    /// <summary>Running VMs first, then by priority (higher first), then name: the order in which Virt lets them keep their place.</summary>
    private static List<string> Ranked(IEnumerable<string> vms, PlacementProblem problem)
    {
        var spec = problem.Vms.ToDictionary(v => v.Name);
        return vms.Distinct().OrderBy(v => spec[v].Node is null).ThenByDescending(v => spec[v].Priority).ThenBy(v => v, StringComparer.Ordinal).ToList();
    }

    private static string SpreadDimension(ColocationRule c) => $"spread-{c.Name}";

    private static XElement Colocation(string id, string rsc, string with, double score, string? attribute) =>
        new("rsc_colocation", new XAttribute("id", id), new XAttribute("rsc", rsc), new XAttribute("with-rsc", with), new XAttribute("score", Score.Format(score)),
            attribute is null ? null : new XAttribute("node-attribute", attribute));

    private static string Int(double value) => ((long)Math.Floor(value)).ToString(CultureInfo.InvariantCulture);

    private static string Seconds(double seconds) => ((long)Math.Ceiling(seconds)).ToString(CultureInfo.InvariantCulture) + "s";

    private static string Iso(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

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
    /// <paramref name="negate"/> writes the exact negation: De Morgan, eq/ne, lt/(gte or not_defined) (a missing
    /// attribute fails every comparison), in/not_in, a date range as before-or-after, a date_spec as the union of
    /// each field's complement.
    /// </summary>
    private static object Expression(NodeExpression e, string id, bool negate, out string? booleanOp)
    {
        booleanOp = null;
        switch (e)
        {
            case AllOf all:
                booleanOp = negate ? "or" : "and";
                return all.Terms.Select((x, i) => Nested(x, $"{id}-{i}", negate)).ToList();
            case AnyOf any:
                booleanOp = negate ? "and" : "or";
                return any.Terms.Select((x, i) => Nested(x, $"{id}-{i}", negate)).ToList();
            default:
                return Leaf(e, id, negate);
        }
    }

    private static XElement Nested(NodeExpression e, string id, bool negate)
    {
        if (e is not (AllOf or AnyOf))
            return Leaf(e, id, negate);
        var content = Expression(e, id, negate, out var op);
        return new XElement("rule", new XAttribute("id", id + "-rule"), new XAttribute("score", "0"), new XAttribute("boolean-op", op!), content);
    }

    private static XElement Leaf(NodeExpression e, string id, bool negate) => e switch
    {
        AttributeTest t => Test(t, id, negate),
        DateRange r => negate ? Or(id, NotInRange(r, id)) : InRange(r, id),
        DateSpec d => negate ? Or(id, d.Ranges.SelectMany((r, i) => Complement(r).Select((c, j) => Spec(new DateSpec([c]), $"{id}-{i}-{j}")))) : Spec(d, id),
        _ => throw new ArgumentException($"unknown expression {e}"),
    };

    private static XElement Or(string id, IEnumerable<XElement> terms)
    {
        var list = terms.ToList();
        return list.Count == 1
            ? list[0]
            : new XElement("rule", new XAttribute("id", id + "-or"), new XAttribute("score", "0"), new XAttribute("boolean-op", "or"),
                list.Count == 0 ? [Simple(id + "-never", "#uname", "not_defined", null, AttributeType.Auto)] : list);
    }

    private static XElement Test(AttributeTest t, string id, bool negate)
    {
        var type = t.Type;
        switch (t.Op, negate)
        {
            case (AttributeOp.In, false) or (AttributeOp.NotIn, true):
                return Group(id, "or", t.Values!.Select((v, i) => Simple($"{id}-{i}", t.Attribute, "eq", v, type)));
            case (AttributeOp.NotIn, false) or (AttributeOp.In, true):
                return Group(id, "and", t.Values!.Select((v, i) => Simple($"{id}-{i}", t.Attribute, "ne", v, type)));
            case (AttributeOp.Lt or AttributeOp.Lte or AttributeOp.Gt or AttributeOp.Gte, true):
                var opposite = t.Op switch { AttributeOp.Lt => "gte", AttributeOp.Lte => "gt", AttributeOp.Gt => "lte", _ => "lt" };
                return Group(id, "or", [Simple(id + "-c", t.Attribute, opposite, t.Value, type), Simple(id + "-u", t.Attribute, "not_defined", null, type)]);
        }

        var op = (t.Op, negate) switch
        {
            (AttributeOp.Defined, false) or (AttributeOp.NotDefined, true) => "defined",
            (AttributeOp.NotDefined, false) or (AttributeOp.Defined, true) => "not_defined",
            (AttributeOp.Eq, false) or (AttributeOp.Ne, true) => "eq",
            (AttributeOp.Ne, false) or (AttributeOp.Eq, true) => "ne",
            _ => AttributeTest.OpName(t.Op),
        };
        return Simple(id, t.Attribute, op, t.Op is AttributeOp.Defined or AttributeOp.NotDefined ? null : t.Value, type);
    }

    private static XElement Group(string id, string op, IEnumerable<XElement> terms) =>
        new("rule", new XAttribute("id", id + "-" + op), new XAttribute("score", "0"), new XAttribute("boolean-op", op), terms);

    private static XElement Simple(string id, string attribute, string op, string? value, AttributeType type) =>
        new("expression", new XAttribute("id", id), new XAttribute("attribute", attribute), new XAttribute("operation", op),
            value is null ? null : new XAttribute("value", value),
            type == AttributeType.Auto || value is null ? null : new XAttribute("type", type.ToString().ToLowerInvariant()));

    /// <summary>Pacemaker's in_range needs an end, or a start and a duration: an open end is a very long duration.</summary>
    private static XElement InRange(DateRange r, string id) =>
        new("date_expression", new XAttribute("id", id), new XAttribute("operation", "in_range"),
            r.Start is { } s ? new XAttribute("start", Iso(s)) : null,
            r.End is { } e ? new XAttribute("end", Iso(e)) : null,
            r.End is null ? new XElement("duration", new XAttribute("id", id + "-duration"), new XAttribute("years", 1000)) : null);

    private static IEnumerable<XElement> NotInRange(DateRange r, string id)
    {
        if (r.Start is { } s)
            yield return new XElement("date_expression", new XAttribute("id", id + "-before"), new XAttribute("operation", "lt"), new XAttribute("end", Iso(s)));
        if (r.End is { } e)
            yield return new XElement("date_expression", new XAttribute("id", id + "-after"), new XAttribute("operation", "gt"), new XAttribute("start", Iso(e)));
    }

    private static XElement Spec(DateSpec d, string id) =>
        new("date_expression", new XAttribute("id", id), new XAttribute("operation", "date_spec"),
            new XElement("date_spec", new XAttribute("id", id + "-spec"), d.Ranges.Select(r => new XAttribute(r.Field.ToString().ToLowerInvariant(), r.Text))));

    private static IEnumerable<DateSpecRange> Complement(DateSpecRange r)
    {
        var (min, max) = DateSpecRange.Domain(r.Field);
        if (r.Low > min)
            yield return new DateSpecRange(r.Field, min, r.Low - 1);
        if (r.High < max)
            yield return new DateSpecRange(r.Field, r.High + 1, max);
    }
}
