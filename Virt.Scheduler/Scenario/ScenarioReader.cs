using System.Globalization;
using System.Text.Json;

namespace Virt.Scheduler;

/// <summary>
/// Reads the scenario format of <c>virt plan</c> (snake_case fields, see the README) into a
/// <see cref="PlacementProblem"/>, checking everything the engine relies on. Unknown fields are errors.
/// </summary>
public static class ScenarioReader
{
    private static readonly string[] ActionKinds = ["place", "evacuate", "fail", "rebalance", "failback", "repair"];
    private static readonly string[] RootFields = ["now", "overcommit", "reserve_failures", "policy", "nodes", "vms", "rules", "action"];
    private static readonly string[] PolicyFields = ["strategy", "preempt", "migration_threshold", "failure_timeout_s", "min_gain", "max_migrations", "max_migrations_per_node", "negative_score_forbids", "stickiness"];
    private static readonly string[] NodeFields = ["name", "capacity", "attributes", "state"];
    private static readonly string[] VmFields = ["name", "demand", "priority", "ha", "node", "home", "failures", "migration_threshold", "failure_timeout_s", "group"];
    private static readonly string[] FailureFields = ["count", "last_s_ago"];
    private static readonly string[] LocationFields = ["name", "kind", "vms", "score", "expr"];
    private static readonly string[] ColocationFields = ["name", "kind", "vms", "score", "with", "node_attribute", "at_most"];
    private static readonly string[] OrderFields = ["name", "kind", "vms", "start_after", "order"];
    private static readonly string[] TestFields = ["attribute", "op", "value", "type"];
    private static readonly string[] DateFields = ["start", "end"];
    private static readonly string[] Ops = ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "defined", "not_defined"];
    private static readonly string[] Types = ["string", "integer", "number", "version"];

    private static readonly Dictionary<string, string> RuleFieldOwners = new()
    {
        ["expr"] = "location rules",
        ["with"] = "colocation rules",
        ["node_attribute"] = "colocation rules",
        ["at_most"] = "colocation rules",
        ["start_after"] = "order rules",
        ["order"] = "order rules",
        ["score"] = "location and colocation rules",
    };

    public static PlacementProblem Read(string json)
    {
        var document = Parse(json);

        using (document)
        {
            var root = document.RootElement;
            Expect(root, JsonValueKind.Object, "the scenario");
            KnownFields.Check(root, "the scenario", RootFields);
            DateTimeOffset? now = root.TryGetProperty("now", out var nw) && nw.ValueKind != JsonValueKind.Null ? Moment(nw, "now", null) : null;
            var overcommit = ReadNumbers(root, "overcommit", "overcommit", allowZero: false);
            var reserve = root.TryGetProperty("reserve_failures", out var r) ? Int(r, "reserve_failures") : 0;
            if (reserve is < 0 or > 2)
                throw new ScenarioException($"reserve_failures must be 0, 1 or 2, not {reserve}");
            var policy = root.TryGetProperty("policy", out var p) ? ReadPolicy(p) : new PlacementPolicy();
            var nodes = Array(root, "nodes", required: true).Select((n, i) => ReadNode(n, i)).ToList();
            var vms = Array(root, "vms", required: false).Select((v, i) => ReadVm(v, i)).ToList();
            var rules = Array(root, "rules", required: false).Select((x, i) => ReadRule(x, i, now)).ToList();
            if (!root.TryGetProperty("action", out var a))
                throw new ScenarioException($"action is missing; give {{\"kind\": \"place\"}} (or {string.Join(", ", ActionKinds.Skip(1))})");
            var problem = new PlacementProblem(nodes, vms, rules, ReadAction(a), policy, overcommit, reserve, now);
            Validate(problem);
            return problem;
        }
    }

    /// <summary>
    /// One rule object of the scenario format (what <c>virt rule add</c> takes), checked field by field. Its VMs are
    /// not checked against any scenario: a rule may name VMs that do not exist yet.
    /// </summary>
    /// <summary>Scenario JSON (comments and trailing commas allowed); bad JSON names the line and byte.</summary>
    private static JsonDocument Parse(string json)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ScenarioException($"not valid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: {ex.Message.Split(" Path:")[0]}");
        }
    }

    public static PlacementRule ReadRule(string json, DateTimeOffset? now = null)
    {
        var document = Parse(json);

        using (document)
            return ReadRule(document.RootElement, 0, now);
    }

    /// <summary>Cross-item checks: unique names, references, dimensions, rule shapes, cycles.</summary>
    public static void Validate(PlacementProblem problem) => ScenarioValidation.Run(problem);

    private static PlacementPolicy ReadPolicy(JsonElement p)
    {
        Expect(p, JsonValueKind.Object, "policy");
        KnownFields.Check(p, "policy", PolicyFields);
        var d = new PlacementPolicy();
        var strategy = p.TryGetProperty("strategy", out var s) ? Str(s, "policy.strategy") : "balanced";
        return new PlacementPolicy(
            strategy switch
            {
                "balanced" => PlacementStrategy.Balanced,
                "pack" => PlacementStrategy.Pack,
                _ => throw new ScenarioException($"policy.strategy '{strategy}' is not one of balanced, pack"),
            },
            p.TryGetProperty("preempt", out var pre) ? Bool(pre, "policy.preempt") : d.Preempt,
            NonNegative(p, "migration_threshold", d.MigrationThreshold, "policy."),
            p.TryGetProperty("failure_timeout_s", out var ft) ? NonNegativeNumber(ft, "policy.failure_timeout_s") : d.FailureTimeoutSeconds,
            p.TryGetProperty("min_gain", out var mg) ? NonNegativeNumber(mg, "policy.min_gain") : d.MinGain,
            NonNegative(p, "max_migrations", d.MaxMigrations, "policy."),
            NonNegative(p, "max_migrations_per_node", d.MaxMigrationsPerNode, "policy."),
            p.TryGetProperty("negative_score_forbids", out var nf) ? Bool(nf, "policy.negative_score_forbids") : d.NegativeScoreForbids,
            p.TryGetProperty("stickiness", out var st) ? NonNegativeNumber(st, "policy.stickiness") : d.Stickiness);
    }

    private static int NonNegative(JsonElement p, string name, int fallback, string prefix)
    {
        if (!p.TryGetProperty(name, out var v))
            return fallback;
        var value = Int(v, prefix + name);
        return value >= 0 ? value : throw new ScenarioException($"{prefix}{name} must be 0 or more, not {value}");
    }

    private static NodeSpec ReadNode(JsonElement n, int index)
    {
        Expect(n, JsonValueKind.Object, $"nodes[{index}]");
        var name = Name(n, $"nodes[{index}]");
        var what = $"node '{name}'";
        KnownFields.Check(n, what, NodeFields);
        var capacity = ReadNumbers(n, "capacity", what + ": capacity", allowZero: true);
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (n.TryGetProperty("attributes", out var attrs) && attrs.ValueKind != JsonValueKind.Null)
        {
            Expect(attrs, JsonValueKind.Object, what + ": attributes");
            foreach (var a in attrs.EnumerateObject())
            {
                attributes[a.Name] = a.Value.ValueKind switch
                {
                    JsonValueKind.String => a.Value.GetString()!,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => a.Value.GetRawText(),
                    _ => throw new ScenarioException($"{what}: attribute '{a.Name}' must be a string, number or boolean"),
                };
            }
        }

        var state = n.TryGetProperty("state", out var st) ? Str(st, what + ": state") : "up";
        return new NodeSpec(name, capacity, attributes, state switch
        {
            "up" => NodeState.Up,
            "draining" => NodeState.Draining,
            "maintenance" => NodeState.Maintenance,
            "down" => NodeState.Down,
            _ => throw new ScenarioException($"{what}: state '{state}' is not one of up, draining, maintenance, down"),
        });
    }

    private static VmSpec ReadVm(JsonElement v, int index)
    {
        Expect(v, JsonValueKind.Object, $"vms[{index}]");
        var name = Name(v, $"vms[{index}]");
        var what = $"VM '{name}'";
        KnownFields.Check(v, what, VmFields);
        var demand = ReadNumbers(v, "demand", what + ": demand", allowZero: true);
        Dictionary<string, FailureHistory>? failures = null;
        if (v.TryGetProperty("failures", out var f) && f.ValueKind != JsonValueKind.Null)
        {
            Expect(f, JsonValueKind.Object, what + ": failures");
            failures = new Dictionary<string, FailureHistory>(StringComparer.Ordinal);
            foreach (var entry in f.EnumerateObject())
            {
                var at = $"{what}: failures.{entry.Name}";
                Expect(entry.Value, JsonValueKind.Object, at);
                KnownFields.Check(entry.Value, at, FailureFields);
                var count = entry.Value.TryGetProperty("count", out var c) ? Int(c, at + ".count") : 0;
                var ago = entry.Value.TryGetProperty("last_s_ago", out var l) ? NonNegativeNumber(l, at + ".last_s_ago") : 0;
                if (count < 0)
                    throw new ScenarioException($"{at}.count must be 0 or more");
                failures[entry.Name] = new FailureHistory(count, ago);
            }
        }

        return new VmSpec(
            name,
            demand,
            v.TryGetProperty("priority", out var p) ? Int(p, what + ": priority") : 0,
            !v.TryGetProperty("ha", out var ha) || Bool(ha, what + ": ha"),
            OptionalStr(v, "node", what),
            OptionalStr(v, "home", what),
            failures,
            v.TryGetProperty("migration_threshold", out var mt) && mt.ValueKind != JsonValueKind.Null ? NonNegative(v, "migration_threshold", 0, what + ": ") : null,
            v.TryGetProperty("failure_timeout_s", out var fts) && fts.ValueKind != JsonValueKind.Null ? NonNegativeNumber(fts, what + ": failure_timeout_s") : null,
            OptionalStr(v, "group", what));
    }

    private static PlacementRule ReadRule(JsonElement x, int index, DateTimeOffset? now)
    {
        Expect(x, JsonValueKind.Object, $"rules[{index}]");
        var name = Name(x, $"rules[{index}]");
        var what = $"rule '{name}'";
        var kind = x.TryGetProperty("kind", out var k) ? Str(k, what + ": kind") : throw new ScenarioException($"{what}: kind is missing (location, colocation or order)");
        var known = kind switch
        {
            "location" => LocationFields,
            "colocation" => ColocationFields,
            "order" => OrderFields,
            _ => throw new ScenarioException($"{what}: kind '{kind}' is not one of location, colocation, order"),
        };
        KnownFields.Check(x, what, known, RuleFieldOwners);
        var vms = Array(x, "vms", required: true, what).Select(v => Str(v, what + ": vms[]")).ToList();
        if (kind == "order")
        {
            var after = Array(x, "start_after", required: true, what).Select(v => Str(v, what + ": start_after[]")).ToList();
            var order = x.TryGetProperty("order", out var o) ? Str(o, what + ": order") : "mandatory";
            return new OrderRule(name, vms, after, order switch
            {
                "mandatory" => true,
                "optional" => false,
                _ => throw new ScenarioException($"{what}: order '{order}' is not one of mandatory, optional"),
            });
        }

        if (!x.TryGetProperty("score", out var s))
            throw new ScenarioException($"{what}: score is missing (INFINITY, -INFINITY or a number)");
        var text = s.ValueKind == JsonValueKind.Number ? s.GetRawText() : s.ValueKind == JsonValueKind.String ? s.GetString()! : "";
        if (!Score.TryParse(text, out var score))
            throw new ScenarioException($"{what}: score must be INFINITY, -INFINITY or a number, not {s.GetRawText()}");
        if (kind == "location")
        {
            return new LocationRule(name, vms, score, x.TryGetProperty("expr", out var e)
                ? ReadExpression(e, what + ": expr", now)
                : throw new ScenarioException($"{what}: a location rule needs expr"));
        }

        int? atMost = x.TryGetProperty("at_most", out var am) && am.ValueKind != JsonValueKind.Null ? Int(am, what + ": at_most") : null;
        return new ColocationRule(name, vms, score, OptionalStr(x, "with", what), OptionalStr(x, "node_attribute", what), atMost);
    }

    private static NodeExpression ReadExpression(JsonElement e, string what, DateTimeOffset? now)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new ScenarioException($"{what}: must be an object like {{\"attribute\": \"rack\", \"op\": \"eq\", \"value\": \"r1\"}}");
        string[] shapes = ["and", "or", "date", "date_spec", "attribute"];
        var shape = shapes.FirstOrDefault(f => e.TryGetProperty(f, out _));
        if (shape is null)
        {
            var first = e.EnumerateObject().Select(p => p.Name).FirstOrDefault();
            throw new ScenarioException(first is null
                ? $"{what}: needs \"attribute\" (a name), \"and\" / \"or\" with a list of expressions, \"date\" or \"date_spec\""
                : $"{what}: unknown field '{first}'; the nearest known one is '{KnownFields.Nearest(first, [.. shapes, .. TestFields])}' (an expression has \"attribute\", \"and\", \"or\", \"date\" or \"date_spec\")");
        }

        switch (shape)
        {
            case "and" or "or":
                KnownFields.Check(e, what, [shape]);
                var terms = Terms(e.GetProperty(shape), $"{what}.{shape}", now);
                return shape == "and" ? new AllOf(terms) : new AnyOf(terms);
            case "date":
                KnownFields.Check(e, what, ["date"]);
                return ReadDate(e.GetProperty("date"), what + ".date", now);
            case "date_spec":
                KnownFields.Check(e, what, ["date_spec"]);
                return ReadDateSpec(e.GetProperty("date_spec"), what + ".date_spec");
        }

        KnownFields.Check(e, what, TestFields);
        var a = e.GetProperty("attribute");
        if (a.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(a.GetString()))
            throw new ScenarioException($"{what}: \"attribute\" must be a non-empty name");
        var opText = e.TryGetProperty("op", out var o) ? Str(o, what + ".op") : throw new ScenarioException($"{what}: needs \"op\" ({string.Join(", ", Ops)})");
        var op = opText switch
        {
            "eq" => AttributeOp.Eq,
            "ne" => AttributeOp.Ne,
            "lt" => AttributeOp.Lt,
            "lte" => AttributeOp.Lte,
            "gt" => AttributeOp.Gt,
            "gte" => AttributeOp.Gte,
            "in" => AttributeOp.In,
            "not_in" => AttributeOp.NotIn,
            "defined" => AttributeOp.Defined,
            "not_defined" => AttributeOp.NotDefined,
            _ => throw new ScenarioException($"{what}: unknown op '{opText}'; the nearest is '{KnownFields.Nearest(opText, Ops)}' (use {string.Join(", ", Ops)})"),
        };
        var typeText = e.TryGetProperty("type", out var t) ? Str(t, what + ".type") : null;
        var type = typeText switch
        {
            null => AttributeType.Auto,
            "string" => AttributeType.String,
            "integer" => AttributeType.Integer,
            "number" => AttributeType.Number,
            "version" => AttributeType.Version,
            _ => throw new ScenarioException($"{what}: type '{typeText}' is not one of {string.Join(", ", Types)}"),
        };
        var attribute = a.GetString()!;
        switch (op)
        {
            case AttributeOp.Defined or AttributeOp.NotDefined:
                if (e.TryGetProperty("value", out _))
                    throw new ScenarioException($"{what}: op '{opText}' takes no \"value\"");
                return new AttributeTest(attribute, op, Type: type);
            case AttributeOp.In or AttributeOp.NotIn:
                if (!e.TryGetProperty("value", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
                    throw new ScenarioException($"{what}: op '{opText}' needs \"value\" as a non-empty list, like [\"r1\", \"r2\"]");
                var values = list.EnumerateArray().Select(v => Scalar(v, what)).ToList();
                values.ForEach(v => CheckTyped(v, type, what));
                return new AttributeTest(attribute, op, Values: values, Type: type);
            default:
                if (!e.TryGetProperty("value", out var value) || value.ValueKind is JsonValueKind.Array or JsonValueKind.Object or JsonValueKind.Null)
                    throw new ScenarioException($"{what}: op '{opText}' needs \"value\" (a string or number)");
                var scalar = Scalar(value, what);
                CheckTyped(scalar, type, what);
                return new AttributeTest(attribute, op, scalar, Type: type);
        }
    }

    /// <summary>A typed rule value must read as its type (a node's value that does not compares as text, as in Pacemaker).</summary>
    private static void CheckTyped(string value, AttributeType type, string what)
    {
        var ok = type switch
        {
            AttributeType.Integer => long.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
            AttributeType.Number => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
            AttributeType.Version => value.Length > 0 && value.Split('.').All(p => p.Length > 0 && p.All(char.IsAsciiDigit)),
            _ => true,
        };
        if (!ok)
            throw new ScenarioException($"{what}: value '{value}' is not {(type == AttributeType.Integer ? "an integer" : type == AttributeType.Number ? "a number" : "a version like 1.2.3")} (type {type.ToString().ToLowerInvariant()})");
    }

    private static string Scalar(JsonElement v, string what) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString()!,
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
        _ => throw new ScenarioException($"{what}: values must be strings or numbers, not {v.GetRawText()}"),
    };

    private static DateRange ReadDate(JsonElement d, string what, DateTimeOffset? now)
    {
        Expect(d, JsonValueKind.Object, what);
        KnownFields.Check(d, what, DateFields);
        DateTimeOffset? start = d.TryGetProperty("start", out var s) ? Moment(s, what + ".start", now) : null;
        DateTimeOffset? end = d.TryGetProperty("end", out var e) ? Moment(e, what + ".end", now) : null;
        if (start is null && end is null)
            throw new ScenarioException($"{what}: needs \"start\", \"end\" or both (ISO 8601, like \"2026-12-24\" or \"2026-12-24T18:00:00Z\")");
        if (start > end)
            throw new ScenarioException($"{what}: start {DateRange.Text(start!.Value)} is after end {DateRange.Text(end!.Value)}");
        return new DateRange(start, end);
    }

    private static DateSpec ReadDateSpec(JsonElement d, string what)
    {
        Expect(d, JsonValueKind.Object, what);
        var fields = Enum.GetValues<DateField>().ToDictionary(f => f.ToString().ToLowerInvariant());
        KnownFields.Check(d, what, fields.Keys.ToArray());
        var ranges = new List<DateSpecRange>();
        foreach (var p in d.EnumerateObject())
        {
            var field = fields[p.Name];
            var (min, max) = DateSpecRange.Domain(field);
            var text = p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetRawText() : p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : "";
            var parts = text.Split('-');
            if (parts.Length is < 1 or > 2 || !parts.All(x => int.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                throw new ScenarioException($"{what}.{p.Name}: '{text}' is not a number or a range like \"{min}-{max}\"");
            var low = int.Parse(parts[0], CultureInfo.InvariantCulture);
            var high = int.Parse(parts[^1], CultureInfo.InvariantCulture);
            if (low < min || high > max || low > high)
                throw new ScenarioException($"{what}.{p.Name}: '{text}' is outside {min}-{max} or runs backwards");
            ranges.Add(new DateSpecRange(field, low, high));
        }

        if (ranges.Count == 0)
            throw new ScenarioException($"{what}: give at least one of {string.Join(", ", fields.Keys)}");
        return new DateSpec(ranges);
    }

    /// <summary>
    /// An ISO 8601 moment with an offset (<c>Z</c> or <c>+01:00</c>); without one it would depend on the machine's time
    /// zone. A bare date (<c>2026-12-24</c>) is midnight in the offset of <paramref name="now"/>.
    /// </summary>
    private static DateTimeOffset Moment(JsonElement e, string what, DateTimeOffset? now)
    {
        var text = e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new ScenarioException($"{what} must be a string like \"2026-12-24T18:00:00Z\", not {e.GetRawText()}");
        if (DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) && now is { } n)
            return new DateTimeOffset(day, n.Offset);
        var hasOffset = text.EndsWith('Z') || text.EndsWith('z') || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':');
        if (!hasOffset || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var moment))
            throw new ScenarioException($"{what}: '{text}' is not an ISO 8601 date and time with an offset, like \"2026-12-24T18:00:00Z\" or \"2026-12-24T18:00:00+01:00\"{(now is null && text.Length == 10 ? " (a bare date needs the scenario's now for its offset)" : "")}");
        return moment;
    }

    private static List<NodeExpression> Terms(JsonElement list, string what, DateTimeOffset? now)
    {
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            throw new ScenarioException($"{what}: must be a non-empty list of expressions");
        return list.EnumerateArray().Select((t, i) => ReadExpression(t, $"{what}[{i}]", now)).ToList();
    }

    private static PlanAction ReadAction(JsonElement a)
    {
        Expect(a, JsonValueKind.Object, "action");
        var kind = a.TryGetProperty("kind", out var k) ? Str(k, "action.kind") : throw new ScenarioException("action.kind is missing");
        string[] known = kind switch
        {
            "evacuate" => ["kind", "nodes", "unplaceable"],
            "fail" => ["kind", "nodes"],
            "repair" => ["kind", "unplaceable"],
            "place" or "rebalance" or "failback" => ["kind"],
            _ => throw new ScenarioException($"action.kind '{kind}' is not one of {string.Join(", ", ActionKinds)}"),
        };
        KnownFields.Check(a, $"action {kind}", known, new Dictionary<string, string> { ["nodes"] = "the evacuate and fail actions", ["unplaceable"] = "the evacuate and repair actions" });

        List<string> Nodes()
        {
            var nodes = Array(a, "nodes", required: true, $"action {kind}").Select(n => Str(n, "action.nodes[]")).ToList();
            return nodes.Count > 0 ? nodes : throw new ScenarioException($"action {kind}: nodes is empty; name at least one node");
        }

        Unplaceable Mode()
        {
            var text = a.TryGetProperty("unplaceable", out var u) ? Str(u, $"action {kind}: unplaceable") : "keep";
            return text switch
            {
                "keep" => Unplaceable.Keep,
                "stop" => Unplaceable.Stop,
                _ => throw new ScenarioException($"action {kind}: unplaceable '{text}' is not one of keep, stop"),
            };
        }

        return kind switch
        {
            "place" => new PlanAction.Place(),
            "evacuate" => new PlanAction.Evacuate(Nodes(), Mode()),
            "fail" => new PlanAction.Fail(Nodes()),
            "rebalance" => new PlanAction.Rebalance(),
            "failback" => new PlanAction.Failback(),
            _ => new PlanAction.Repair(Mode()),
        };
    }

    private static Dictionary<string, double> ReadNumbers(JsonElement parent, string property, string what, bool allowZero)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (!parent.TryGetProperty(property, out var obj) || obj.ValueKind == JsonValueKind.Null)
            return result;
        Expect(obj, JsonValueKind.Object, what);
        foreach (var p in obj.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number)
                throw new ScenarioException($"{what} '{p.Name}' must be a number, not {p.Value.GetRawText()}");
            var value = p.Value.GetDouble();
            if (value < 0 || (!allowZero && value == 0))
                throw new ScenarioException($"{what} '{p.Name}' must be {(allowZero ? "0 or more" : "more than 0")}, not {p.Value.GetRawText()}");
            result[p.Name] = value;
        }

        return result;
    }

    private static IEnumerable<JsonElement> Array(JsonElement parent, string property, bool required, string? owner = null)
    {
        if (!parent.TryGetProperty(property, out var array) || array.ValueKind == JsonValueKind.Null)
        {
            return required
                ? throw new ScenarioException($"{(owner is null ? "" : owner + ": ")}{property} is missing")
                : [];
        }

        Expect(array, JsonValueKind.Array, (owner is null ? "" : owner + ": ") + property);
        return array.EnumerateArray().ToList();
    }

    private static string Name(JsonElement e, string what)
    {
        if (!e.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(n.GetString()))
            throw new ScenarioException($"{what}: name is missing or empty");
        return n.GetString()!;
    }

    private static string? OptionalStr(JsonElement e, string property, string what) =>
        !e.TryGetProperty(property, out var v) || v.ValueKind == JsonValueKind.Null ? null : Str(v, $"{what}: {property}");

    private static string Str(JsonElement e, string what) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new ScenarioException($"{what} must be a string, not {e.GetRawText()}");

    private static bool Bool(JsonElement e, string what) =>
        e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : throw new ScenarioException($"{what} must be true or false, not {e.GetRawText()}");

    private static int Int(JsonElement e, string what) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var i) ? i : throw new ScenarioException($"{what} must be a whole number, not {e.GetRawText()}");

    private static double NonNegativeNumber(JsonElement e, string what) =>
        e.ValueKind == JsonValueKind.Number && e.GetDouble() >= 0 ? e.GetDouble() : throw new ScenarioException($"{what} must be a number, 0 or more, not {e.GetRawText()}");

    private static void Expect(JsonElement e, JsonValueKind kind, string what)
    {
        if (e.ValueKind != kind)
            throw new ScenarioException($"{what} must be {(kind == JsonValueKind.Object ? "an object" : "a list")}, not {e.ValueKind.ToString().ToLowerInvariant()}");
    }
}
