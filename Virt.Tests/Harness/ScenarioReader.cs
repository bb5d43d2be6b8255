using System.Text.Json;
using F23.StringSimilarity;

namespace Virt.Tests.Harness;

/// <summary>
/// Reads scenario.json strictly: every field is known (an unknown one is an error naming the nearest known field),
/// of the right kind, and every name it refers to (hosts, VMs, faults, waits) exists. Errors say where
/// (<c>steps[2].host</c>) and what to do.
/// </summary>
public static class ScenarioReader
{
    private static readonly OptimalStringAlignment Osa = new();

    private static readonly string[] TopFields = ["description", "skip", "hosts", "etcd", "fencing", "vms", "steps", "expect"];
    private static readonly string[] HostFields = ["name", "cpus", "memoryMib"];
    private static readonly string[] FencingFields = ["levels"];
    private static readonly string[] VmFields = ["name", "host", "vcpus", "memoryMib", "priority", "restart"];
    private static readonly string[] StepFields = ["fault", "wait", "command", "host", "to", "member", "seconds", "vm", "hosts"];
    private static readonly string[] ExpectFields = ["vms", "fenced", "noFences", "members", "down"];
    private static readonly string[] VmExpectFields = ["state", "desired", "on", "lastError"];
    private static readonly string[] FencedFields = ["host", "level"];

    public static readonly string[] Faults = ["kill9", "power-off", "stop", "cont", "link-down", "link-up", "drop", "heal", "restart", "etcd-member-down", "etcd-member-up", "etcd-down", "etcd-up", "postgres-restart", "revive"];
    public static readonly string[] Waits = ["fenced", "recovered", "exited", "members", "converged", "for"];
    private static readonly string[] Commands = ["start", "stop"];
    private static readonly string[] Levels = ["power", "storage", "watchdog"];
    private static readonly string[] Policies = ["always", "on-failure", "never"];

    /// <summary>The scenario in <paramref name="directory"/> (its name is the directory's).</summary>
    public static Scenario Read(string directory)
    {
        var file = Path.Combine(directory, "scenario.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return Parse(Path.GetFileName(directory), doc.RootElement);
    }

    public static Scenario Parse(string name, JsonElement root)
    {
        var errors = new List<string>();
        Known(root, TopFields, "", errors);
        var hosts = new List<(int, long)>();
        var hostNames = new List<string>();
        foreach (var (h, at) in Array(root, "hosts", "", errors))
        {
            Known(h, HostFields, at, errors);
            var hostName = Str(h, "name", at, errors, required: true) ?? "";
            var expected = LabCluster.HostName(hosts.Count);
            if (hostName != expected)
                errors.Add($"{at}.name: '{hostName}' must be {expected} (hosts are hv-1, hv-2... in order)");
            hostNames.Add(hostName);
            hosts.Add(((int)(Int(h, "cpus", at, errors) ?? 8), Int(h, "memoryMib", at, errors) ?? 8192));
        }

        if (hosts.Count == 0)
            errors.Add("hosts: give at least one host, e.g. [{\"name\": \"hv-1\", \"cpus\": 8, \"memoryMib\": 8192}]");
        var etcd = root.TryGetProperty("etcd", out var e) && Bool(e, "etcd", errors);
        var levels = new List<string> { "power" };
        if (root.TryGetProperty("fencing", out var fencing))
        {
            Known(fencing, FencingFields, "fencing", errors);
            if (fencing.TryGetProperty("levels", out var l))
            {
                levels = l.ValueKind == JsonValueKind.Array ? l.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : "").ToList() : [];
                foreach (var level in levels)
                    OneOf(level, Levels, "fencing.levels", errors);
            }
        }

        var vms = new List<LabVm>();
        foreach (var (v, at) in Array(root, "vms", "", errors))
        {
            Known(v, VmFields, at, errors);
            var host = Str(v, "host", at, errors);
            if (host is not null)
                OneOf(host, hostNames, $"{at}.host", errors);
            var restart = Str(v, "restart", at, errors) ?? "always";
            OneOf(restart, Policies, $"{at}.restart", errors);
            vms.Add(new LabVm(Str(v, "name", at, errors, required: true) ?? "", (int)(Int(v, "vcpus", at, errors) ?? 1), Int(v, "memoryMib", at, errors) ?? 512, restart, (int)(Int(v, "priority", at, errors) ?? 0), host));
        }

        var vmNames = vms.Select(v => v.Name).ToList();
        var steps = new List<Step>();
        foreach (var (s, at) in Array(root, "steps", "", errors))
        {
            Known(s, StepFields, at, errors);
            var kinds = new[] { "fault", "wait", "command" }.Where(k => s.TryGetProperty(k, out _)).ToList();
            if (kinds.Count != 1)
            {
                errors.Add($"{at}: give exactly one of fault, wait or command");
                continue;
            }

            var kind = kinds[0] switch { "fault" => StepKind.Fault, "wait" => StepKind.Wait, _ => StepKind.Command };
            var what = Str(s, kinds[0], at, errors) ?? "";
            OneOf(what, kind switch { StepKind.Fault => Faults, StepKind.Wait => Waits, _ => Commands }, $"{at}.{kinds[0]}", errors);
            var host = Str(s, "host", at, errors);
            var to = Str(s, "to", at, errors);
            var vm = Str(s, "vm", at, errors);
            foreach (var (value, field) in new[] { (host, "host"), (to, "to") })
            {
                if (value is not null)
                    OneOf(value, hostNames, $"{at}.{field}", errors);
            }

            if (vm is not null)
                OneOf(vm, vmNames, $"{at}.vm", errors);
            var listed = s.TryGetProperty("hosts", out var hs) ? Strings(hs, $"{at}.hosts", errors) : null;
            foreach (var h in listed ?? [])
                OneOf(h, hostNames, $"{at}.hosts", errors);
            var step = new Step(kind, what, host, to, (int?)Int(s, "member", at, errors), Double(s, "seconds", at, errors), vm, listed);
            Needs(step, at, errors);
            steps.Add(step);
        }

        var expect = ReadExpect(root, hostNames, vmNames, errors);
        if (errors.Count > 0)
            throw new ScenarioException($"scenario {name}: {string.Join("; ", errors)}");
        return new Scenario(name, Str(root, "description", "", errors) ?? "", hosts, etcd, levels, vms, steps, expect) { Skip = Str(root, "skip", "", errors) };
    }

    /// <summary>The arguments a step's kind needs.</summary>
    private static void Needs(Step s, string at, List<string> errors)
    {
        var host = s.Kind != StepKind.Command && s.What is "kill9" or "power-off" or "stop" or "cont" or "link-down" or "link-up" or "drop" or "heal" or "restart" or "fenced" or "exited";
        if (host && s.Host is null)
            errors.Add($"{at}: {s.What} needs \"host\"");
        if (s.What == "drop" && s.To is null)
            errors.Add($"{at}: drop needs \"to\" (the host whose packets from \"host\" are dropped)");
        if (s.What is "etcd-member-down" or "etcd-member-up" && s.Member is not (>= 0 and <= 2))
            errors.Add($"{at}: {s.What} needs \"member\": 0, 1 or 2");
        if (s.What == "for" && s.Seconds is not > 0)
            errors.Add($"{at}: for needs \"seconds\" (how long the fault lasts)");
        if (s.What == "members" && s.Hosts is null)
            errors.Add($"{at}: members needs \"hosts\" (exactly the up members)");
        if (s.Kind == StepKind.Command && s.Vm is null)
            errors.Add($"{at}: {s.What} needs \"vm\"");
    }

    private static Expectation ReadExpect(JsonElement root, List<string> hostNames, List<string> vmNames, List<string> errors)
    {
        if (!root.TryGetProperty("expect", out var x))
        {
            errors.Add("expect: required (what must hold at the end)");
            return new Expectation(new Dictionary<string, VmExpectation>(), [], false, null, []);
        }

        Known(x, ExpectFields, "expect", errors);
        var vms = new Dictionary<string, VmExpectation>(StringComparer.Ordinal);
        if (x.TryGetProperty("vms", out var v) && v.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in v.EnumerateObject())
            {
                var at = $"expect.vms.{p.Name}";
                OneOf(p.Name, vmNames, "expect.vms", errors);
                Known(p.Value, VmExpectFields, at, errors);
                var on = p.Value.TryGetProperty("on", out var o) ? Strings(o, $"{at}.on", errors) : null;
                foreach (var h in on ?? [])
                    OneOf(h, hostNames, $"{at}.on", errors);
                vms[p.Name] = new VmExpectation(Str(p.Value, "state", at, errors), Str(p.Value, "desired", at, errors), on, Str(p.Value, "lastError", at, errors));
            }
        }

        var fenced = new List<(string, string)>();
        foreach (var (f, at) in Array(x, "fenced", "expect", errors))
        {
            Known(f, FencedFields, at, errors);
            var host = Str(f, "host", at, errors, required: true) ?? "";
            OneOf(host, hostNames, $"{at}.host", errors);
            var level = Str(f, "level", at, errors) ?? "power";
            OneOf(level, Levels, $"{at}.level", errors);
            fenced.Add((host, level));
        }

        var members = x.TryGetProperty("members", out var m) ? Strings(m, "expect.members", errors) : null;
        var down = x.TryGetProperty("down", out var d) ? Strings(d, "expect.down", errors) : [];
        foreach (var h in (members ?? []).Concat(down))
            OneOf(h, hostNames, "expect", errors);
        var noFences = x.TryGetProperty("noFences", out var n) && Bool(n, "expect.noFences", errors);
        return new Expectation(vms, fenced, noFences, members, down);
    }

    private static void Known(JsonElement e, string[] known, string at, List<string> errors)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{(at.Length == 0 ? "the document" : at)}: must be an object");
            return;
        }

        foreach (var p in e.EnumerateObject().Where(p => !known.Contains(p.Name, StringComparer.Ordinal)))
            errors.Add($"{Join(at, p.Name)}: unknown field{Nearest(p.Name, known)}");
    }

    private static void OneOf(string value, IReadOnlyList<string> known, string at, List<string> errors)
    {
        if (!known.Contains(value, StringComparer.Ordinal))
            errors.Add($"{at}: '{value}' is not one of {string.Join(", ", known)}{Nearest(value, known)}");
    }

    private static string Nearest(string given, IReadOnlyList<string> known)
    {
        if (known.Count == 0)
            return "";
        var nearest = known.MinBy(k => Osa.Distance(given.ToLowerInvariant(), k.ToLowerInvariant()))!;
        return Osa.Distance(given.ToLowerInvariant(), nearest.ToLowerInvariant()) <= Math.Max(2, given.Length / 3) ? $"; did you mean '{nearest}'?" : $" (known: {string.Join(", ", known)})";
    }

    private static string Join(string at, string field) => at.Length == 0 ? field : $"{at}.{field}";

    private static IEnumerable<(JsonElement, string)> Array(JsonElement e, string field, string at, List<string> errors)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(field, out var a))
            return [];
        if (a.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{Join(at, field)}: must be an array");
            return [];
        }

        return a.EnumerateArray().Select((x, i) => (x, $"{Join(at, field)}[{i}]")).ToList();
    }

    private static string? Str(JsonElement e, string field, string at, List<string> errors, bool required = false)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(field, out var v))
        {
            if (required)
                errors.Add($"{Join(at, field)}: required");
            return null;
        }

        if (v.ValueKind == JsonValueKind.String)
            return v.GetString();
        errors.Add($"{Join(at, field)}: must be a string");
        return null;
    }

    private static long? Int(JsonElement e, string field, string at, List<string> errors)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(field, out var v))
            return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n >= 0)
            return n;
        errors.Add($"{Join(at, field)}: must be a whole number, 0 or more");
        return null;
    }

    private static double? Double(JsonElement e, string field, string at, List<string> errors)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(field, out var v))
            return null;
        if (v.ValueKind == JsonValueKind.Number)
            return v.GetDouble();
        errors.Add($"{Join(at, field)}: must be a number");
        return null;
    }

    private static bool Bool(JsonElement v, string at, List<string> errors)
    {
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False)
            return v.GetBoolean();
        errors.Add($"{at}: must be true or false");
        return false;
    }

    private static List<string> Strings(JsonElement v, string at, List<string> errors)
    {
        if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String))
            return v.EnumerateArray().Select(x => x.GetString()!).ToList();
        errors.Add($"{at}: must be an array of strings");
        return [];
    }
}

/// <summary>A scenario file that is wrong; the message says where and what to do.</summary>
public sealed class ScenarioException(string message) : Exception(message);
