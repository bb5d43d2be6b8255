using System.Text.RegularExpressions;

namespace Virt.Actors.Vm;

/// <summary>A problem with one field of a request, for 400 responses that name the field.</summary>
public sealed record FieldError(string Field, string Message);

/// <summary>Checks a spec before anything is stored. Every rule says what is wrong and what is allowed.</summary>
public static partial class VmSpecValidator
{
    public const long MinMemoryMib = 16;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex NameRule();

    [GeneratedRegex("^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")]
    private static partial Regex MacRule();

    [GeneratedRegex("^(vd|sd|hd|xvd)[a-z]{1,2}$")]
    private static partial Regex TargetRule();

    public const int MaxLabels = 64;

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62})$")]
    private static partial Regex LabelKeyRule();

    [GeneratedRegex("^[A-Za-z0-9._-]{0,63}$")]
    private static partial Regex LabelValueRule();

    public static string LabelRuleText => "a key of 1 to 63 letters, digits, '.', '_', '-' or '/' starting with a letter or digit, '=', and a value of up to 63 letters, digits, '.', '_' or '-'";

    /// <summary>Why <paramref name="key"/>=<paramref name="value"/> is not a label, or null when it is one.</summary>
    public static string? LabelProblem(string key, string value) =>
        !LabelKeyRule().IsMatch(key) ? $"'{key}' is not a label key: use {LabelRuleText}"
        : !LabelValueRule().IsMatch(value) ? $"'{value}' is not a label value: use up to 63 letters, digits, '.', '_' or '-'"
        : null;

    public static bool IsValidName(string? name) => name is not null && NameRule().IsMatch(name);

    public static string NameRuleText => "1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit (no spaces or slashes)";

    public static List<FieldError> Validate(VmSpec spec)
    {
        var errors = new List<FieldError>();
        if (!IsValidName(spec.Name))
            errors.Add(new FieldError("name", $"'{spec.Name}' is not a valid VM name: use {NameRuleText}"));
        if (spec.Uuid == Guid.Empty)
            errors.Add(new FieldError("uuid", "must not be the empty UUID"));
        if (spec.Vcpus < 1 || spec.Vcpus > 4096)
            errors.Add(new FieldError("vcpus", $"must be between 1 and 4096, not {spec.Vcpus}"));
        if (spec.MemoryMib < MinMemoryMib)
            errors.Add(new FieldError("memoryMib", $"must be at least {MinMemoryMib} MiB, not {spec.MemoryMib}"));
        if (spec.StopTimeout is { } stop && stop <= TimeSpan.Zero)
            errors.Add(new FieldError("stopTimeout", "must be positive"));
        if (spec.MaxRestarts is < 0)
            errors.Add(new FieldError("maxRestarts", "must be 0 or more"));
        if (spec.RestartWindow is { } window && window <= TimeSpan.Zero)
            errors.Add(new FieldError("restartWindow", "must be positive"));

        if (spec.VncPort is < 5900 or > 65535)
            errors.Add(new FieldError("vncPort", $"must be between 5900 and 65535, not {spec.VncPort} (leave it out and libvirt picks a free port)"));
        if (spec.VncPort is not null && !spec.Vnc)
            errors.Add(new FieldError("vncPort", "needs \"vnc\": true"));
        if (spec.Kernel is { } kernel)
        {
            if (!kernel.Path.StartsWith('/'))
                errors.Add(new FieldError("kernel.path", $"'{kernel.Path}' must be an absolute path on the host"));
            if (kernel.Initrd is { } initrd && !initrd.StartsWith('/'))
                errors.Add(new FieldError("kernel.initrd", $"'{initrd}' must be an absolute path on the host"));
        }

        if (spec.Readiness is { } ready)
            errors.AddRange(ReadinessProblems(ready));

        if (spec.Labels is { } labels)
        {
            if (labels.Count > MaxLabels)
                errors.Add(new FieldError("labels", $"has {labels.Count} labels; a VM can have at most {MaxLabels}"));
            foreach (var (key, value) in labels)
            {
                if (LabelProblem(key, value) is { } problem)
                    errors.Add(new FieldError($"labels.{key}", problem));
            }
        }

        var targets = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Disks.Count; i++)
        {
            var d = spec.Disks[i];
            var field = $"disks[{i}]";
            if (string.IsNullOrWhiteSpace(d.Path))
                errors.Add(new FieldError(field + ".path", "is required"));
            if (!TargetRule().IsMatch(d.Target))
                errors.Add(new FieldError(field + ".target", $"'{d.Target}' is not a disk target like vda, sdb"));
            else if (!targets.Add(d.Target))
                errors.Add(new FieldError(field + ".target", $"'{d.Target}' is used by two disks"));
            if (d.Bus is not ("virtio" or "scsi" or "sata" or "ide"))
                errors.Add(new FieldError(field + ".bus", $"'{d.Bus}' is not one of virtio, scsi, sata, ide"));
            switch (d.Kind)
            {
                case DiskKind.File or DiskKind.Block when !d.Path.StartsWith('/'):
                    errors.Add(new FieldError(field + ".path", $"'{d.Path}' must be an absolute path"));
                    break;
                case DiskKind.Rbd when d.Path.Count(c => c == '/') != 1 || d.Path.StartsWith('/') || d.Path.EndsWith('/'):
                    errors.Add(new FieldError(field + ".path", $"'{d.Path}' must be pool/image for an RBD disk"));
                    break;
                case DiskKind.Rbd when d.Monitors is not { Count: > 0 }:
                    errors.Add(new FieldError(field + ".monitors", "an RBD disk needs at least one monitor (host:port)"));
                    break;
            }
        }

        for (var i = 0; i < spec.Nics.Count; i++)
        {
            var n = spec.Nics[i];
            var field = $"nics[{i}]";
            if (string.IsNullOrWhiteSpace(n.Source))
                errors.Add(new FieldError(field + ".source", "is required (a libvirt network or a bridge name)"));
            if (n.Mac is { } mac && !MacRule().IsMatch(mac))
                errors.Add(new FieldError(field + ".mac", $"'{mac}' is not a MAC address like 52:54:00:12:34:56"));
            if (n.Vlan is < 1 or > 4094)
                errors.Add(new FieldError(field + ".vlan", $"must be between 1 and 4094, not {n.Vlan}"));
            if (n.OpenVSwitch && n.Kind != NicKind.Bridge)
                errors.Add(new FieldError(field + ".openVSwitch", "Open vSwitch needs a bridge NIC"));
        }

        return errors;
    }

    /// <summary>A tcp check needs a host:port and only it takes one; a timeout must be positive.</summary>
    private static IEnumerable<FieldError> ReadinessProblems(ReadinessSpec ready)
    {
        if (ready.Kind == ReadinessKind.Tcp && ready.Tcp is null)
            yield return new FieldError("readiness.tcp", "is required for kind tcp: the host:port that accepts once the guest is ready, like \"10.0.0.5:22\"");
        else if (ready.Kind == ReadinessKind.Tcp && TcpEndpointProblem(ready.Tcp!) is { } problem)
            yield return new FieldError("readiness.tcp", problem);
        else if (ready.Kind != ReadinessKind.Tcp && ready.Tcp is not null)
            yield return new FieldError("readiness.tcp", $"is only for kind tcp, not {ReadinessSpec.KindName(ready.Kind)}");
        if (ready.Timeout is { } timeout && timeout <= TimeSpan.Zero)
            yield return new FieldError("readiness.timeout", "must be a positive duration, like 60s");
    }

    /// <summary>Why <paramref name="endpoint"/> is not <c>host:port</c> (an IPv6 address in brackets), or null.</summary>
    public static string? TcpEndpointProblem(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        var host = colon > 0 ? endpoint[..colon] : "";
        if (colon <= 0 || !int.TryParse(endpoint[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            return $"'{endpoint}' is not host:port with a port from 1 to 65535, like \"10.0.0.5:22\"";
        if (host.Contains(':') && !(host.StartsWith('[') && host.EndsWith(']')))
            return $"'{endpoint}': write an IPv6 address in brackets, like \"[fd00::5]:22\"";
        return Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown ? $"'{host}' in '{endpoint}' is not a host name or address" : null;
    }
}
