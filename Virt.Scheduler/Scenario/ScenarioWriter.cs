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
            {
                w.WriteStartObject();
                w.WriteString("name", v.Name);
                Numbers(w, "demand", v.Demand);
                w.WriteNumber("priority", v.Priority);
                w.WriteBoolean("ha", v.Ha);
                w.WriteString("node", v.Node);
                w.WriteString("home", v.Home);
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

            w.WriteEndArray();
            w.WriteStartArray("rules");
            foreach (var r in problem.Rules)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                w.WriteString("kind", r is LocationRule ? "location" : "colocation");
                w.WriteStartArray("vms");
                foreach (var vm in r.Vms)
                    w.WriteStringValue(vm);
                w.WriteEndArray();
                if (double.IsFinite(r.Score))
                    w.WriteNumber("score", r.Score);
                else
                    w.WriteString("score", Score.Format(r.Score));
                if (r is LocationRule l)
                {
                    w.WritePropertyName("expr");
                    Expression(w, l.Expression);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("action");
            w.WriteString("kind", problem.Action.Kind);
            if (problem.Action is PlanAction.Evacuate or PlanAction.Fail)
            {
                w.WriteStartArray("nodes");
                foreach (var n in problem.Action is PlanAction.Evacuate e ? e.Nodes : ((PlanAction.Fail)problem.Action).Nodes)
                    w.WriteStringValue(n);
                w.WriteEndArray();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
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
            case AttributeTest t:
                w.WriteString("attribute", t.Attribute);
                w.WriteString("op", t.Op switch { AttributeOp.NotDefined => "not_defined", _ => t.Op.ToString().ToLowerInvariant() });
                if (t.Op == AttributeOp.In)
                {
                    w.WriteStartArray("value");
                    foreach (var v in t.Values!)
                        w.WriteStringValue(v);
                    w.WriteEndArray();
                }
                else if (t.Value is not null)
                {
                    w.WriteString("value", t.Value);
                }

                break;
        }

        w.WriteEndObject();
    }
}
