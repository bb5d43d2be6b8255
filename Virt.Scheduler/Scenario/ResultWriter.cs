using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Virt.Scheduler;

/// <summary>The result document of <c>virt plan --json</c>; field names are fixed by the scenario format.</summary>
public static class ResultWriter
{
    public static string Json(PlanResult result)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartArray("decisions");
            foreach (var d in result.Decisions)
            {
                w.WriteStartObject();
                w.WriteString("vm", d.Vm);
                w.WriteString("kind", d.Kind.ToString().ToLowerInvariant());
                w.WriteString("from", d.From);
                w.WriteString("to", d.To);
                w.WriteNumber("step", d.Step);
                w.WriteStartArray("after");
                foreach (var step in d.After)
                    w.WriteNumberValue(step);
                w.WriteEndArray();
                w.WriteString("why", d.Why);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("unplaced");
            foreach (var u in result.Unplaced)
            {
                w.WriteStartObject();
                w.WriteString("vm", u.Vm);
                w.WriteStartObject("reasons");
                foreach (var (node, reason) in u.Reasons)
                    w.WriteString(node, reason);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("reservation");
            w.WriteNumber("failures", result.Reservation.Failures);
            w.WriteBoolean("holds", result.Reservation.Holds);
            w.WriteString("detail", result.Reservation.Detail);
            w.WriteStartObject("failover_targets");
            foreach (var (vm, targets) in result.FailoverTargets)
            {
                w.WriteStartArray(vm);
                foreach (var t in targets)
                    w.WriteStringValue(t);
                w.WriteEndArray();
            }

            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteNumber("elapsed_ms", Math.Round(result.ElapsedMs, 3));
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The same result for people: one line per decision, then what could not be placed and why.</summary>
    public static string Text(PlanResult result)
    {
        var sb = new StringBuilder();
        if (result.Decisions.Count == 0)
            sb.AppendLine("No changes.");
        foreach (var d in result.Decisions)
        {
            var move = d.Kind switch
            {
                DecisionKind.Migrate => $"{d.From} -> {d.To}",
                DecisionKind.Stop => $"on {d.From}",
                _ => $"on {d.To}",
            };
            var after = d.After.Count == 0 ? "" : $" (after {string.Join(", ", d.After)})";
            sb.AppendLine(CultureInfo.InvariantCulture, $"{d.Step,4}. {d.Kind.ToString().ToLowerInvariant(),-8} {d.Vm,-20} {move,-24} {d.Why}{after}");
        }

        foreach (var u in result.Unplaced)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"not placed: {u.Vm}");
            foreach (var (node, reason) in u.Reasons)
                sb.AppendLine(CultureInfo.InvariantCulture, $"    {node}: {reason}");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"reservation N+{result.Reservation.Failures}: {(result.Reservation.Holds ? "holds" : "DOES NOT HOLD")} ({result.Reservation.Detail})");
        sb.Append(CultureInfo.InvariantCulture, $"planned in {result.ElapsedMs:0.###} ms");
        return sb.ToString();
    }
}
