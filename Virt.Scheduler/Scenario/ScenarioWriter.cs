using System.Text;
using System.Text.Json;

namespace Virt.Scheduler;

/// <summary>Writes a <see cref="PlacementProblem"/> in the scenario format <see cref="ScenarioReader"/> reads.</summary>
public static class ScenarioWriter
{
    public static string Json(PlacementProblem problem)
    {
        var policy = problem.Policy ?? new PlacementPolicy();
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            if (problem.Now is { } now)
                w.WriteString("now", DateRange.Text(now));
            Numbers(w, "overcommit", problem.Overcommit ?? new Dictionary<string, double>());
            w.WriteNumber("reserve_failures", problem.ReserveFailures);
            w.WriteStartObject("policy");
            w.WriteString("strategy", policy.Strategy.ToString().ToLowerInvariant());
            w.WriteBoolean("preempt", policy.Preempt);
            w.WriteNumber("migration_threshold", policy.MigrationThreshold);
            w.WriteNumber("failure_timeout_s", policy.FailureTimeoutSeconds);
            w.WriteNumber("min_gain", policy.MinGain);
            w.WriteNumber("max_migrations", policy.MaxMigrations);
            w.WriteNumber("max_migrations_per_node", policy.MaxMigrationsPerNode);
            w.WriteBoolean("negative_score_forbids", policy.NegativeScoreForbids);
            w.WriteNumber("stickiness", policy.Stickiness);
            w.WriteEndObject();
            w.WriteStartArray("nodes");
            foreach (var n in problem.Nodes)
            {
                w.WriteStartObject();
                w.WriteString("name", n.Name);
                Numbers(w, "capacity", n.Capacity);
                w.WriteStartObject("attributes");
                foreach (var (k, v) in n.Attributes)
                    w.WriteString(k, v);
                w.WriteEndObject();
                w.WriteString("state", n.State.ToString().ToLowerInvariant());
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("vms");
            foreach (var v in problem.Vms)
                Vm(w, v);
            w.WriteEndArray();
            w.WriteStartArray("rules");
            foreach (var r in problem.Rules)
                Rule(w, r);
            w.WriteEndArray();
            Action(w, problem.Action);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Vm(Utf8JsonWriter w, VmSpec v)
    {
        w.WriteStartObject();
        w.WriteString("name", v.Name);
        Numbers(w, "demand", v.Demand);
        w.WriteNumber("priority", v.Priority);
        w.WriteBoolean("ha", v.Ha);
        w.WriteString("node", v.Node);
        w.WriteString("home", v.Home);
        if (v.Group is { } g)
            w.WriteString("group", g);
        if (v.MigrationThreshold is { } mt)
            w.WriteNumber("migration_threshold", mt);
        if (v.FailureTimeoutSeconds is { } ft)
            w.WriteNumber("failure_timeout_s", ft);
        if (v.Failures is { Count: > 0 })
        {
            w.WriteStartObject("failures");
            foreach (var (node, h) in v.Failures)
            {
                w.WriteStartObject(node);
                w.WriteNumber("count", h.Count);
                w.WriteNumber("last_s_ago", h.LastSecondsAgo);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void Rule(Utf8JsonWriter w, PlacementRule r)
    {
        w.WriteStartObject();
        w.WriteString("name", r.Name);
        w.WriteString("kind", r switch { LocationRule => "location", ColocationRule => "colocation", _ => "order" });
        Strings(w, "vms", r.Vms);
        switch (r)
        {
            case LocationRule l:
                ScoreField(w, l.Score);
                w.WritePropertyName("expr");
                Expression(w, l.Expression);
                break;
            case ColocationRule c:
                ScoreField(w, c.Score);
                if (c.With is { } with)
                    w.WriteString("with", with);
                if (c.NodeAttribute is { } attribute)
                    w.WriteString("node_attribute", attribute);
                if (c.AtMost is { } k)
                    w.WriteNumber("at_most", k);
                break;
            case OrderRule o:
                Strings(w, "start_after", o.StartAfter);
                w.WriteString("order", o.Mandatory ? "mandatory" : "optional");
                break;
        }

        w.WriteEndObject();
    }

    private static void Action(Utf8JsonWriter w, PlanAction action)
    {
        w.WriteStartObject("action");
        w.WriteString("kind", action.Kind);
        switch (action)
        {
            case PlanAction.Evacuate e:
                Strings(w, "nodes", e.Nodes);
                w.WriteString("unplaceable", e.Unplaceable.ToString().ToLowerInvariant());
                break;
            case PlanAction.Fail f:
                Strings(w, "nodes", f.Nodes);
                break;
            case PlanAction.Repair r:
                w.WriteString("unplaceable", r.Unplaceable.ToString().ToLowerInvariant());
                break;
        }

        w.WriteEndObject();
    }

    private static void ScoreField(Utf8JsonWriter w, double score)
    {
        if (double.IsFinite(score))
            w.WriteNumber("score", score);
        else
            w.WriteString("score", Score.Format(score));
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
            w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static void Numbers(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, double> values)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in values)
            w.WriteNumber(k, v);
        w.WriteEndObject();
    }

    private static void Expression(Utf8JsonWriter w, NodeExpression e)
    {
        w.WriteStartObject();
        switch (e)
        {
            case AllOf all:
                w.WriteStartArray("and");
                foreach (var t in all.Terms)
                    Expression(w, t);
                w.WriteEndArray();
                break;
            case AnyOf any:
                w.WriteStartArray("or");
                foreach (var t in any.Terms)
                    Expression(w, t);
                w.WriteEndArray();
                break;
            case DateRange range:
                w.WriteStartObject("date");
                if (range.Start is { } start)
                    w.WriteString("start", DateRange.Text(start));
                if (range.End is { } end)
                    w.WriteString("end", DateRange.Text(end));
                w.WriteEndObject();
                break;
            case DateSpec spec:
                w.WriteStartObject("date_spec");
                foreach (var r in spec.Ranges)
                    w.WriteString(r.Field.ToString().ToLowerInvariant(), r.Text);
                w.WriteEndObject();
                break;
            case AttributeTest t:
                w.WriteString("attribute", t.Attribute);
                w.WriteString("op", AttributeTest.OpName(t.Op));
                if (t.Op is AttributeOp.In or AttributeOp.NotIn)
                    Strings(w, "value", t.Values!);
                else if (t.Value is not null)
                    w.WriteString("value", t.Value);
                if (t.Type != AttributeType.Auto)
                    w.WriteString("type", t.Type.ToString().ToLowerInvariant());
                break;
        }

        w.WriteEndObject();
    }
}
