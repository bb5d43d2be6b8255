using F23.StringSimilarity;
using System.Text.Json;
using Virt.Actors.Vm;
using Virt.Hocon;

namespace Virt.Node.Api;

/// <summary>
/// Reads a VM spec from a request body, field by field, so every problem names its field. Sizes may be numbers
/// (<c>memoryMib</c>) or text with a unit (<c>"memory": "2GiB"</c>); durations are text like <c>"30s"</c>. A field
/// this API does not know is an error naming the nearest known one (a typo must not silently drop a disk).
/// </summary>
internal static class VmRequest
{
    private static readonly OptimalStringAlignment Osa = new(); // F23.StringSimilarity: edits, a swap of neighbours counting one

    public const int MaxDisks = 32;
    public const int MaxNics = 32;

    private static readonly string[] SpecFields = ["name", "uuid", "vcpus", "memory", "memoryMib", "restart", "priority", "stopTimeout", "maxRestarts", "restartWindow", "disks", "nics", "labels", "vnc", "vncPort", "kernel", "readiness"];
    private static readonly string[] KernelFields = ["path", "initrd", "cmdline"];
    private static readonly string[] ReadinessFields = ["kind", "tcp", "timeout"];
    private static readonly string[] DiskFields = ["kind", "path", "target", "bus", "readOnly", "monitors", "user", "secretUuid"];
    private static readonly string[] NicFields = ["kind", "source", "mac", "vlan", "openVSwitch", "model"];

    public static (VmSpec? Spec, List<FieldError> Errors) Read(JsonElement body, string? nameFromPath = null)
    {
        var errors = new List<FieldError>();
        if (body.ValueKind != JsonValueKind.Object)
            return (null, [new FieldError("", "the body must be a JSON object describing the VM")]);
        Known(body, SpecFields, null, errors);

        var name = Str(body, "name", errors) ?? nameFromPath;
        if (nameFromPath is not null && name != nameFromPath)
            errors.Add(new FieldError("name", $"'{name}' does not match the VM in the path ('{nameFromPath}')"));
        if (name is null)
            errors.Add(new FieldError("name", "is required"));

        var uuid = Guid.NewGuid();
        if (Str(body, "uuid", errors) is { } uuidText && !Guid.TryParse(uuidText, out uuid))
            errors.Add(new FieldError("uuid", $"'{uuidText}' is not a UUID"));

        var vcpus = Int(body, "vcpus", errors);
        if (vcpus is null && !Has(body, "vcpus"))
            errors.Add(new FieldError("vcpus", "is required"));

        long? memory = null;
        if (Has(body, "memoryMib") && Has(body, "memory"))
            errors.Add(new FieldError("memory", "give memory or memoryMib, not both"));
        else if (Has(body, "memoryMib"))
            memory = Int(body, "memoryMib", errors);
        else if (Has(body, "memory"))
            memory = Size(body, "memory", errors);
        else
            errors.Add(new FieldError("memory", "is required: a size like \"2GiB\" (or memoryMib as a number)"));

        var restart = RestartPolicy.Always;
        if (Str(body, "restart", errors) is { } policy)
        {
            restart = policy switch
            {
                "always" => RestartPolicy.Always,
                "on-failure" => RestartPolicy.OnFailure,
                "never" => RestartPolicy.Never,
                _ => Bad(errors, "restart", $"'{policy}' is not one of always, on-failure, never", RestartPolicy.Always),
            };
        }

        var disks = AssignTargets(List(body, "disks", MaxDisks, errors, ReadDisk));
        var nics = List(body, "nics", MaxNics, errors, ReadNic);
        var priority = Int(body, "priority", errors) ?? 0;
        var stopTimeout = Duration(body, "stopTimeout", errors);
        var maxRestarts = Int(body, "maxRestarts", errors);
        var restartWindow = Duration(body, "restartWindow", errors);
        var labels = Labels(body, errors);
        var vnc = Bool(body, "vnc", errors) ?? false;
        var vncPort = Int(body, "vncPort", errors);
        KernelSpec? kernel = null;
        if (body.TryGetProperty("kernel", out var k) && k.ValueKind != JsonValueKind.Null)
        {
            if (k.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError("kernel", "must be an object: {\"path\": \"/boot/vmlinuz\", \"initrd\": ..., \"cmdline\": ...}"));
            }
            else
            {
                Known(k, KernelFields, "kernel", errors);
                var path = Str(k, "path", errors, "kernel");
                if (path is null)
                    errors.Add(new FieldError("kernel.path", "is required"));
                else
                    kernel = new KernelSpec(path, Str(k, "initrd", errors, "kernel"), Str(k, "cmdline", errors, "kernel"));
            }
        }
        var readiness = Readiness(body, errors);
        if (errors.Count > 0)
        {
            // Report every problem at once: check what was given, with valid stand-ins for what was not.
            var provisional = new VmSpec(name ?? "x", uuid, vcpus ?? 1, memory ?? VmSpecValidator.MinMemoryMib, disks.Select(d => d.Disk).ToList(), nics, restart) { Readiness = readiness };
            errors.AddRange(VmSpecValidator.Validate(provisional).Where(e => errors.All(x => x.Field != e.Field)));
            return (null, errors);
        }

        var spec = new VmSpec(name!, uuid, vcpus!.Value, memory!.Value, disks.Select(d => d.Disk).ToList(), nics, restart, priority, stopTimeout, maxRestarts, restartWindow, labels, vnc, vncPort, kernel, readiness);
        errors.AddRange(VmSpecValidator.Validate(spec));
        return errors.Count > 0 ? (null, errors) : (spec, errors);
    }

    /// <summary><c>"readiness": {"kind": "virtio-signal" | "guest-agent" | "tcp" | "none", "tcp": "host:port", "timeout": "60s"}</c>.</summary>
    private static ReadinessSpec? Readiness(JsonElement body, List<FieldError> errors)
    {
        if (!body.TryGetProperty("readiness", out var r) || r.ValueKind == JsonValueKind.Null)
            return null;
        if (r.ValueKind != JsonValueKind.Object)
            return Bad<ReadinessSpec?>(errors, "readiness", "must be an object, like {\"kind\": \"virtio-signal\", \"timeout\": \"60s\"}", null);
        Known(r, ReadinessFields, "readiness", errors);
        var kindText = Str(r, "kind", errors, "readiness");
        ReadinessKind? kind = kindText switch
        {
            null => null,
            "none" => ReadinessKind.None,
            "virtio-signal" => ReadinessKind.VirtioSignal,
            "guest-agent" => ReadinessKind.GuestAgent,
            "tcp" => ReadinessKind.Tcp,
            _ => Bad<ReadinessKind?>(errors, "readiness.kind", $"'{kindText}' is not one of none, virtio-signal, guest-agent, tcp{NearestKind(kindText)}", null),
        };
        if (kindText is null && !errors.Any(e => e.Field == "readiness.kind"))
            errors.Add(new FieldError("readiness.kind", "is required: none, virtio-signal, guest-agent or tcp"));
        var tcp = Str(r, "tcp", errors, "readiness");
        var timeout = Duration(r, "timeout", errors, "readiness");
        return kind is { } k ? new ReadinessSpec(k, tcp, timeout) : null;
    }

    private static string NearestKind(string given)
    {
        var nearest = new[] { "none", "virtio-signal", "guest-agent", "tcp" }.MinBy(k => Osa.Distance(given.ToLowerInvariant(), k))!;
        return Osa.Distance(given.ToLowerInvariant(), nearest) <= 2 ? $"; did you mean '{nearest}'?" : "";
    }

    /// <summary>A disk without a target gets the next free one of its bus's family (vda, vdb...; sda... for scsi/sata), as the shell does.</summary>
    private static List<DiskRead> AssignTargets(List<DiskRead> disks)
    {
        var taken = disks.Where(d => d.Given).Select(d => d.Disk.Target).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < disks.Count; i++)
        {
            if (disks[i].Given)
                continue;
            var prefix = disks[i].Disk.Bus switch { "scsi" or "sata" => "sd", "ide" => "hd", _ => "vd" };
            var target = Enumerable.Range(0, 26 * 27).Select(n => prefix + Letters(n)).First(t => !taken.Contains(t));
            taken.Add(target);
            disks[i] = new DiskRead(disks[i].Disk with { Target = target }, true);
        }

        return disks;
    }

    /// <summary><c>"labels": {"app": "web"}</c>: text values only; kept in key order, so equal labels compare equal.</summary>
    private static IReadOnlyDictionary<string, string>? Labels(JsonElement body, List<FieldError> errors)
    {
        if (!body.TryGetProperty("labels", out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        if (v.ValueKind != JsonValueKind.Object)
            return Bad<IReadOnlyDictionary<string, string>?>(errors, "labels", "must be an object of text values, like {\"app\": \"web\"}", null);
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in v.EnumerateObject())
        {
            if (label.Value.ValueKind == JsonValueKind.Null)
                continue; // a merge patch's way of removing a label
            if (label.Value.ValueKind != JsonValueKind.String)
                errors.Add(new FieldError($"labels.{label.Name}", $"must be text, not {label.Value.GetRawText()}"));
            else
                labels[label.Name] = label.Value.GetString()!;
        }

        return labels.Count == 0 ? null : new Dictionary<string, string>(labels, StringComparer.Ordinal);
    }

    private static string Letters(int n) => n < 26 ? ((char)('a' + n)).ToString() : $"{(char)('a' + (n / 26) - 1)}{(char)('a' + (n % 26))}";

    private static DiskRead? ReadDisk(JsonElement d, string field, List<FieldError> errors)
    {
        Known(d, DiskFields, field, errors);
        var kindText = Str(d, "kind", errors, field) ?? "file";
        DiskKind? kind = kindText switch { "file" => DiskKind.File, "block" => DiskKind.Block, "rbd" => DiskKind.Rbd, _ => null };
        if (kind is null)
            errors.Add(new FieldError(field + ".kind", $"'{kindText}' is not one of file, block, rbd"));
        var path = Str(d, "path", errors, field);
        if (path is null)
            errors.Add(new FieldError(field + ".path", "is required"));
        Guid? secret = null;
        if (Str(d, "secretUuid", errors, field) is { } s)
        {
            if (Guid.TryParse(s, out var g))
                secret = g;
            else
                errors.Add(new FieldError(field + ".secretUuid", $"'{s}' is not a UUID"));
        }

        List<string>? monitors = null;
        if (Has(d, "monitors"))
            monitors = List(d, "monitors", 16, errors, (m, f, e) => m.ValueKind == JsonValueKind.String ? m.GetString() : Bad<string?>(e, f, "must be a string like 10.0.0.1:6789", null), field, objectsOnly: false).ToList();
        if (kind is null || path is null)
            return null;
        var target = Str(d, "target", errors, field);
        return new DiskRead(new DiskSpec(kind.Value, path, target ?? "", Str(d, "bus", errors, field) ?? "virtio", Bool(d, "readOnly", errors, field) ?? false, monitors, Str(d, "user", errors, field), secret), target is not null);
    }

    private static NicSpec? ReadNic(JsonElement n, string field, List<FieldError> errors)
    {
        Known(n, NicFields, field, errors);
        var kindText = Str(n, "kind", errors, field) ?? "network";
        NicKind? kind = kindText switch { "network" => NicKind.Network, "bridge" => NicKind.Bridge, _ => null };
        if (kind is null)
            errors.Add(new FieldError(field + ".kind", $"'{kindText}' is not one of network, bridge"));
        var source = Str(n, "source", errors, field);
        if (source is null)
            errors.Add(new FieldError(field + ".source", "is required"));
        if (kind is null || source is null)
            return null;
        return new NicSpec(kind.Value, source, Str(n, "mac", errors, field), Int(n, "vlan", errors, field), Bool(n, "openVSwitch", errors, field) ?? false,
            Str(n, "model", errors, field) ?? "virtio");
    }

    /// <summary>Every field of <paramref name="e"/> must be one of <paramref name="known"/>.</summary>
    private static void Known(JsonElement e, string[] known, string? parent, List<FieldError> errors)
    {
        foreach (var property in e.EnumerateObject())
        {
            if (known.Contains(property.Name, StringComparer.Ordinal))
                continue;
            var nearest = known.MinBy(k => Osa.Distance(property.Name.ToLowerInvariant(), k.ToLowerInvariant()))!;
            var hint = (int)Osa.Distance(property.Name.ToLowerInvariant(), nearest.ToLowerInvariant()) <= Math.Max(2, property.Name.Length / 3)
                ? $"did you mean '{nearest}'?"
                : $"the fields here are {string.Join(", ", known)}";
            errors.Add(new FieldError(Field(parent, property.Name), $"unknown field; {hint}"));
        }
    }

    private static bool Has(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    private static string Field(string? parent, string name) => parent is null ? name : $"{parent}.{name}";

    private static string? Str(JsonElement e, string name, List<FieldError> errors, string? parent = null)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : Bad<string?>(errors, Field(parent, name), $"must be a string, not {v.GetRawText()}", null);
    }

    private static int? Int(JsonElement e, string name, List<FieldError> errors, string? parent = null)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : Bad<int?>(errors, Field(parent, name), $"must be a whole number, not {v.GetRawText()}", null);
    }

    private static bool? Bool(JsonElement e, string name, List<FieldError> errors, string? parent = null)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : Bad<bool?>(errors, Field(parent, name), "must be true or false", null);
    }

    private static long? Size(JsonElement e, string name, List<FieldError> errors)
    {
        var v = e.GetProperty(name);
        if (v.ValueKind == JsonValueKind.Number)
            return Bad<long?>(errors, name, "needs a unit, like \"2GiB\" or \"512MiB\" (or give memoryMib)", null);
        if (v.ValueKind != JsonValueKind.String || !HoconSize.TryParse(v.GetString(), out var bytes))
            return Bad<long?>(errors, name, $"{v.GetRawText()} is not a size; write \"2GiB\", \"512MiB\"", null);
        if (bytes <= 0)
            return Bad<long?>(errors, name, $"must be more than zero, not {v.GetString()}", null);
        if (bytes < VmSpecValidator.MinMemoryMib * 1024 * 1024)
            return Bad<long?>(errors, name, $"'{v.GetString()}' is {bytes} bytes; a VM needs at least {VmSpecValidator.MinMemoryMib} MiB (write a unit, like 2GiB or 512MiB)", null);
        return bytes / (1024 * 1024);
    }

    private static TimeSpan? Duration(JsonElement e, string name, List<FieldError> errors, string? parent = null)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        if (v.ValueKind == JsonValueKind.String && HoconDuration.TryParse(v.GetString(), out var d))
            return d;
        return Bad<TimeSpan?>(errors, Field(parent, name), $"{v.GetRawText()} is not a duration; write \"30s\", \"2m\"", null);
    }

    private static List<T> List<T>(JsonElement e, string name, int max, List<FieldError> errors, Func<JsonElement, string, List<FieldError>, T?> read, string? parent = null, bool objectsOnly = true)
        where T : class
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return [];
        if (v.ValueKind != JsonValueKind.Array)
            return Bad<List<T>>(errors, Field(parent, name), "must be a list", []);
        var count = v.GetArrayLength();
        if (count > max)
            return Bad<List<T>>(errors, Field(parent, name), $"has {count} entries; a VM can have at most {max}", []);
        var result = new List<T>();
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            var field = $"{Field(parent, name)}[{i++}]";
            if (objectsOnly && item.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError(field, "must be an object"));
                continue;
            }

            if (read(item, field, errors) is { } value)
                result.Add(value);
        }

        return result;
    }

    private sealed record DiskRead(DiskSpec Disk, bool Given);

    private static T Bad<T>(List<FieldError> errors, string field, string message, T fallback)
    {
        errors.Add(new FieldError(field, message));
        return fallback;
    }
}
