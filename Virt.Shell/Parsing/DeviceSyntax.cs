using System.Text.Json.Nodes;

namespace Virt.Shell.Parsing;

/// <summary>
/// Parses --disk and --nic values:
/// <code>
/// --disk /var/lib/images/a.qcow2              a file (target vda, vdb... in order)
/// --disk file:/img/a.raw,target=vdb,ro        options: target=, bus=, ro
/// --disk block:/dev/vg0/data
/// --disk rbd:pool/image,mon=10.0.0.1:6789,mon=10.0.0.2,user=libvirt,secret=UUID
/// --nic network:default,mac=52:54:00:12:34:56
/// --nic bridge:br0,ovs,vlan=42               options: mac=, vlan=, ovs, model=
/// </code>
/// </summary>
internal static class DeviceSyntax
{
    public static JsonObject Disk(string text, int index)
    {
        var (kind, source, options) = Split(text, "file", ["file", "block", "rbd"], "--disk");
        var disk = new JsonObject { ["kind"] = kind, ["path"] = source, ["target"] = "vd" + (char)('a' + index) };
        var monitors = new JsonArray();
        foreach (var (key, value) in options)
        {
            switch (key)
            {
                case "target" or "bus" or "user":
                    disk[key] = Need(value, key, "--disk");
                    break;
                case "ro" or "readonly":
                    disk["readOnly"] = true;
                    break;
                case "mon":
                    monitors.Add((JsonNode?)JsonValue.Create(Need(value, key, "--disk")));
                    break;
                case "secret":
                    disk["secretUuid"] = Need(value, key, "--disk");
                    break;
                default:
                    throw new UsageException($"--disk {text}: unknown option '{key}' (use target=, bus=, ro; for rbd also mon=, user=, secret=)");
            }
        }

        if (monitors.Count > 0)
            disk["monitors"] = monitors;
        return disk;
    }

    public static JsonObject Nic(string text)
    {
        var (kind, source, options) = Split(text, null, ["network", "bridge"], "--nic");
        var nic = new JsonObject { ["kind"] = kind, ["source"] = source };
        foreach (var (key, value) in options)
        {
            switch (key)
            {
                case "mac" or "model":
                    nic[key] = Need(value, key, "--nic");
                    break;
                case "vlan":
                    nic["vlan"] = int.TryParse(Need(value, key, "--nic"), out var vlan) ? vlan : throw new UsageException($"--nic {text}: vlan must be a number");
                    break;
                case "ovs":
                    nic["openVSwitch"] = true;
                    break;
                default:
                    throw new UsageException($"--nic {text}: unknown option '{key}' (use mac=, vlan=, ovs, model=)");
            }
        }

        return nic;
    }

    private static (string Kind, string Source, List<(string Key, string? Value)> Options) Split(string text, string? defaultKind, string[] kinds, string flag)
    {
        var parts = text.Split(',');
        var head = parts[0];
        var colon = head.IndexOf(':');
        string kind, source;
        if (colon > 0 && kinds.Contains(head[..colon]))
            (kind, source) = (head[..colon], head[(colon + 1)..]);
        else if (defaultKind is not null)
            (kind, source) = (defaultKind, head);
        else
            throw new UsageException($"{flag} {text}: start with one of {string.Join(", ", kinds.Select(k => k + ":"))}");
        if (source.Length == 0)
            throw new UsageException($"{flag} {text}: missing the {kind} to use");
        var options = parts.Skip(1).Select(p => p.IndexOf('=') is var eq and > 0 ? (p[..eq], (string?)p[(eq + 1)..]) : (p, null)).ToList();
        return (kind, source, options);
    }

    private static string Need(string? value, string key, string flag) =>
        string.IsNullOrEmpty(value) ? throw new UsageException($"{flag}: {key}= needs a value") : value;
}
