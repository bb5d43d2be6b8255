using System.Globalization;
using System.Text.Json;

namespace Virt.Scheduler;

/// <summary>
/// Reads the scenario format of <c>virt plan</c> (snake_case fields, see the README) into a
/// <see cref="PlacementProblem"/>, checking everything the engine relies on.
/// </summary>
public static class ScenarioReader
{
    private static readonly string[] ActionKinds = ["place", "evacuate", "fail", "rebalance", "failback"];

    public static PlacementProblem Read(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ScenarioException($"not valid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: {ex.Message.Split(" Path:")[0]}");
        }

        using (document)
        {
            var root = document.RootElement;
            Expect(root, JsonValueKind.Object, "the scenario");
            var overcommit = ReadNumbers(root, "overcommit", "overcommit", allowZero: false);
            var reserve = root.TryGetProperty("reserve_failures", out var r) ? Int(r, "reserve_failures") : 0;
            if (reserve is < 0 or > 2)
                throw new ScenarioException($"reserve_failures must be 0, 1 or 2, not {reserve}");
            var policy = root.TryGetProperty("policy", out var p) ? ReadPolicy(p) : new PlacementPolicy();
            var nodes = Array(root, "nodes", required: true).Select((n, i) => ReadNode(n, i)).ToList();
            var vms = Array(root, "vms", required: false).Select((v, i) => ReadVm(v, i)).ToList();
            var rules = Array(root, "rules", required: false).Select((x, i) => ReadRule(x, i)).ToList();
            if (!root.TryGetProperty("action", out var a))
                throw new ScenarioException("action is missing; give {\"kind\": \"place\"} (or evacuate, fail, rebalance, failback)");
            var problem = new PlacementProblem(nodes, vms, rules, ReadAction(a), policy, overcommit, reserve);
            Validate(problem);
            return problem;
        }
    }

    /// <summary>Cross-item checks: unique names, references, dimensions.</summary>
    public static void Validate(PlacementProblem problem)
    {
        Unique(problem.Nodes.Select(n => n.Name), "node");
        Unique(problem.Vms.Select(v => v.Name), "VM");
        Unique(problem.Rules.Select(r => r.Name), "rule");
        var nodes = problem.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var vms = problem.Vms.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        var dims = problem.Nodes.SelectMany(n => n.Capacity.Keys).ToHashSet(StringComparer.Ordinal);
        foreach (var node in problem.Nodes)
        {
            foreach (var (dim, value) in node.Capacity)
            {
                if (value < 0 || !double.IsFinite(value))
                    throw new ScenarioException($"node '{node.Name}': capacity '{dim}' must be 0 or more, not {value}");
            }
        }

        foreach (var vm in problem.Vms)
        {
            foreach (var (dim, value) in vm.Demand)
            {
                if (value < 0 || !double.IsFinite(value))
                    throw new ScenarioException($"VM '{vm.Name}': demand '{dim}' must be 0 or more, not {value}");
                if (!dims.Contains(dim))
                    throw new ScenarioException($"VM '{vm.Name}': demands '{dim}' but no node has capacity '{dim}'");
            }

            if (vm.Node is { } n && !nodes.Contains(n))
                throw new ScenarioException($"VM '{vm.Name}': node '{n}' is not a known node");
            if (vm.Home is { } h && !nodes.Contains(h))
                throw new ScenarioException($"VM '{vm.Name}': home '{h}' is not a known node");
            foreach (var failed in vm.Failures?.Keys ?? [])
            {
                if (!nodes.Contains(failed))
                    throw new ScenarioException($"VM '{vm.Name}': failures name '{failed}', which is not a known node");
            }
        }

        foreach (var rule in problem.Rules)
        {
            if (rule.Vms.Count == 0)
                throw new ScenarioException($"rule '{rule.Name}': vms is empty");
            foreach (var vm in rule.Vms)
            {
                if (!vms.Contains(vm))
                    throw new ScenarioException($"rule '{rule.Name}': unknown VM '{vm}'");
            }
        }

        foreach (var (dim, ratio) in problem.Overcommit ?? new Dictionary<string, double>())
        {
            if (!dims.Contains(dim))
                throw new ScenarioException($"overcommit names '{dim}' but no node has capacity '{dim}'");
            if (ratio <= 0)
                throw new ScenarioException($"overcommit '{dim}' must be more than 0, not {ratio}");
        }

        var actionNodes = problem.Action switch
        {
            PlanAction.Evacuate e => e.Nodes,
            PlanAction.Fail f => f.Nodes,
            _ => [],
        };
        foreach (var n in actionNodes)
        {
            if (!nodes.Contains(n))
                throw new ScenarioException($"action {problem.Action.Kind}: unknown node '{n}'");
        }
    }

    private static void Unique(IEnumerable<string> names, string what)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (!seen.Add(name))
                throw new ScenarioException($"duplicate {what} name '{name}'");
        }
    }

    private static PlacementPolicy ReadPolicy(JsonElement p)
    {
        Expect(p, JsonValueKind.Object, "policy");
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
            NonNegative(p, "migration_threshold", d.MigrationThreshold),
            p.TryGetProperty("failure_timeout_s", out var ft) ? NonNegativeNumber(ft, "policy.failure_timeout_s") : d.FailureTimeoutSeconds,
            p.TryGetProperty("min_gain", out var mg) ? NonNegativeNumber(mg, "policy.min_gain") : d.MinGain,
            NonNegative(p, "max_migrations", d.MaxMigrations),
            NonNegative(p, "max_migrations_per_node", d.MaxMigrationsPerNode));
    }

    private static int NonNegative(JsonElement p, string name, int fallback)
    {
        if (!p.TryGetProperty(name, out var v))
            return fallback;
        var value = Int(v, "policy." + name);
        return value >= 0 ? value : throw new ScenarioException($"policy.{name} must be 0 or more, not {value}");
    }

    private static NodeSpec ReadNode(JsonElement n, int index)
    {
        Expect(n, JsonValueKind.Object, $"nodes[{index}]");
        var name = Name(n, $"nodes[{index}]");
        var what = $"node '{name}'";
        var capacity = ReadNumbers(n, "capacity", what + ": capacity", allowZero: true);
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (n.TryGetProperty("attributes", out var attrs))
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
        var demand = ReadNumbers(v, "demand", what + ": demand", allowZero: true);
        Dictionary<string, FailureHistory>? failures = null;
        if (v.TryGetProperty("failures", out var f) && f.ValueKind != JsonValueKind.Null)
        {
            Expect(f, JsonValueKind.Object, what + ": failures");
            failures = new Dictionary<string, FailureHistory>(StringComparer.Ordinal);
            foreach (var entry in f.EnumerateObject())
            {
                Expect(entry.Value, JsonValueKind.Object, $"{what}: failures.{entry.Name}");
                var count = entry.Value.TryGetProperty("count", out var c) ? Int(c, $"{what}: failures.{entry.Name}.count") : 0;
                var ago = entry.Value.TryGetProperty("last_s_ago", out var l) ? NonNegativeNumber(l, $"{what}: failures.{entry.Name}.last_s_ago") : 0;
                if (count < 0)
                    throw new ScenarioException($"{what}: failures.{entry.Name}.count must be 0 or more");
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
            failures);
    }

    private static PlacementRule ReadRule(JsonElement x, int index)
    {
        Expect(x, JsonValueKind.Object, $"rules[{index}]");
        var name = Name(x, $"rules[{index}]");
        var what = $"rule '{name}'";
        var kind = x.TryGetProperty("kind", out var k) ? Str(k, what + ": kind") : throw new ScenarioException($"{what}: kind is missing (location or colocation)");
        var vms = Array(x, "vms", required: true, what).Select(v => Str(v, what + ": vms[]")).ToList();
        if (!x.TryGetProperty("score", out var s))
            throw new ScenarioException($"{what}: score is missing (INFINITY, -INFINITY or a number)");
        var text = s.ValueKind == JsonValueKind.Number ? s.GetRawText() : s.ValueKind == JsonValueKind.String ? s.GetString()! : "";
        if (!Score.TryParse(text, out var score))
            throw new ScenarioException($"{what}: score must be INFINITY, -INFINITY or a number, not {s.GetRawText()}");
        return kind switch
        {
            "location" => new LocationRule(name, vms, score, x.TryGetProperty("expr", out var e)
                ? ReadExpression(e, what + ": expr")
                : throw new ScenarioException($"{what}: a location rule needs expr")),
            "colocation" => new ColocationRule(name, vms, score),
            _ => throw new ScenarioException($"{what}: kind '{kind}' is not one of location, colocation"),
        };
    }

    private static NodeExpression ReadExpression(JsonElement e, string what)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new ScenarioException($"{what}: must be an object like {{\"attribute\": \"rack\", \"op\": \"eq\", \"value\": \"r1\"}}");
        if (e.TryGetProperty("and", out var and))
            return new AllOf(Terms(and, what + ".and"));
        if (e.TryGetProperty("or", out var or))
            return new AnyOf(Terms(or, what + ".or"));
        if (!e.TryGetProperty("attribute", out var a) || a.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(a.GetString()))
            throw new ScenarioException($"{what}: needs \"attribute\" (a name), or \"and\" / \"or\" with a list of expressions");
        var opText = e.TryGetProperty("op", out var o) ? Str(o, what + ".op") : throw new ScenarioException($"{what}: needs \"op\" (eq, ne, lt, gt, in, defined, not_defined)");
        var op = opText switch
        {
            "eq" => AttributeOp.Eq,
            "ne" => AttributeOp.Ne,
            "lt" => AttributeOp.Lt,
            "gt" => AttributeOp.Gt,
            "in" => AttributeOp.In,
            "defined" => AttributeOp.Defined,
            "not_defined" => AttributeOp.NotDefined,
            _ => throw new ScenarioException($"{what}: unknown op '{opText}' (use eq, ne, lt, gt, in, defined, not_defined)"),
        };
        var attribute = a.GetString()!;
        switch (op)
        {
            case AttributeOp.Defined or AttributeOp.NotDefined:
                return new AttributeTest(attribute, op);
            case AttributeOp.In:
                if (!e.TryGetProperty("value", out var list) || list.ValueKind != JsonValueKind.Array)
                    throw new ScenarioException($"{what}: op 'in' needs \"value\" as a list, like [\"r1\", \"r2\"]");
                return new AttributeTest(attribute, op, Values: list.EnumerateArray().Select(Scalar).ToList());
            default:
                if (!e.TryGetProperty("value", out var value) || value.ValueKind is JsonValueKind.Array or JsonValueKind.Object or JsonValueKind.Null)
                    throw new ScenarioException($"{what}: op '{opText}' needs \"value\" (a string or number)");
                return new AttributeTest(attribute, op, Scalar(value));
        }

        string Scalar(JsonElement v) => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
    }

    private static List<NodeExpression> Terms(JsonElement list, string what)
    {
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            throw new ScenarioException($"{what}: must be a non-empty list of expressions");
        return list.EnumerateArray().Select((t, i) => ReadExpression(t, $"{what}[{i}]")).ToList();
    }

    private static PlanAction ReadAction(JsonElement a)
    {
        Expect(a, JsonValueKind.Object, "action");
        var kind = a.TryGetProperty("kind", out var k) ? Str(k, "action.kind") : throw new ScenarioException("action.kind is missing");
        List<string> Nodes()
        {
            var nodes = Array(a, "nodes", required: true, $"action {kind}").Select(n => Str(n, "action.nodes[]")).ToList();
            return nodes.Count > 0 ? nodes : throw new ScenarioException($"action {kind}: nodes is empty; name at least one node");
        }

        return kind switch
        {
            "place" => new PlanAction.Place(),
            "evacuate" => new PlanAction.Evacuate(Nodes()),
            "fail" => new PlanAction.Fail(Nodes()),
            "rebalance" => new PlanAction.Rebalance(),
            "failback" => new PlanAction.Failback(),
            _ => throw new ScenarioException($"action.kind '{kind}' is not one of {string.Join(", ", ActionKinds)}"),
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
