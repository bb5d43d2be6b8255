using F23.StringSimilarity;
using Microsoft.Extensions.Configuration;
using Virt.Actors.Balancer;
using Virt.Actors.Vm;
using Virt.Hocon;
using Virt.Node.Agent;
using Virt.Node.Hosting;

namespace Virt.Node.Configuration;

/// <summary>
/// Checks a resolved configuration before virt-node touches the disk: every key under <c>virt</c> must be one the
/// options classes know (an unknown one names the nearest known key), every value must be of its key's type, and
/// each options class's own rules must hold. Every problem names the file and line it came from.
/// </summary>
internal static class ConfigurationValidator
{
    private static readonly OptimalStringAlignment Osa = new(); // F23.StringSimilarity: edits, a swap of neighbours counting one

    /// <summary>The sections under <c>virt</c> and the options class each binds to (besides <see cref="NodeOptions"/> at <c>virt</c> itself).</summary>
    public static readonly (string Path, Type Type)[] Sections =
    [
        ("api", typeof(ApiOptions)),
        ("libvirt", typeof(LibvirtOptions)),
        ("vm", typeof(VmDefaults)),
        ("balancer", typeof(BalancerOptions)),
        ("persistence", typeof(PersistenceOptions)),
        ("fencing", typeof(Fence.FencingOptions)),
    ];

    public static OptionsSchema.Object Schema { get; } = OptionsSchema.For(typeof(NodeOptions), Sections);

    public static List<string> Check(HoconObject resolved)
    {
        var problems = new List<(HoconPosition At, string Path, string Text)>();
        switch (resolved["virt"])
        {
            case HoconObject virt:
                Walk(virt, Schema, "virt", problems);
                break;
            case { } other:
                return [$"{other.Position}: virt: must be an object (virt {{ ... }})"];
        }

        if (resolved["akka"] is { } akka and not HoconObject)
            problems.Add((akka.Position, "akka", "must be an object (akka { ... })"));

        // A section's own rules need its values to bind: they run for every section without a value of the wrong kind.
        var configuration = new ConfigurationBuilder().AddHocon(resolved).Build();
        bool Clean(string section) => !problems.Any(p => p.Path.StartsWith(section + ".", StringComparison.Ordinal) && (section != "virt" || !Sections.Any(x => p.Path.StartsWith($"virt.{x.Path}.", StringComparison.Ordinal))));
        if (Clean("virt"))
            Rules(resolved, "virt", configuration.GetSection("virt").Get<NodeOptions>() ?? new NodeOptions(), problems);
        foreach (var (path, type) in Sections)
        {
            if (Clean($"virt.{path}") && configuration.GetSection($"virt:{path}").Get(type) is IValidatedOptions options)
                Rules(resolved, $"virt.{path}", options, problems);
        }

        if (Clean("virt") && Clean("virt.persistence"))
        {
            var node = configuration.GetSection("virt").Get<NodeOptions>() ?? new NodeOptions();
            var persistence = configuration.GetSection("virt:persistence").Get<PersistenceOptions>() ?? new PersistenceOptions();
            if (node.Cluster.SeedNodes.Any(s => s != node.Cluster.Listen) && !persistence.UsesPostgres)
            {
                problems.Add((Position(resolved, "virt.cluster.seed-nodes"), "virt.cluster.seed-nodes",
                    "a node that joins other nodes needs the shared journal; set virt.persistence.postgresql.connection-string (SQLite is for a single node)"));
            }
        }

        // In the order they were written, so an operator reads them down the file.
        return problems
            .OrderBy(p => p.At.Origin.StartsWith("virt.conf", StringComparison.Ordinal) ? 0 : p.At.Origin.StartsWith("--set", StringComparison.Ordinal) ? 2 : 1)
            .ThenBy(p => p.At.Origin, StringComparer.Ordinal).ThenBy(p => p.At.Line).ThenBy(p => p.At.Column)
            .Select(p => $"{p.At}: {p.Path}: {p.Text}")
            .ToList();
    }

    private static void Rules(HoconObject resolved, string section, IValidatedOptions options, List<(HoconPosition, string, string)> problems)
    {
        foreach (var (key, problem) in options.Problems())
            problems.Add((Position(resolved, $"{section}.{key}"), $"{section}.{key}", problem));
    }

    private static HoconPosition Position(HoconObject resolved, string path)
    {
        // The deepest node that exists on the path: a key the rule names may be a map entry or a default.
        HoconNode? found = null;
        HoconNode? node = resolved;
        foreach (var segment in path.Split('.'))
        {
            node = (node as HoconObject)?[segment];
            if (node is null)
                break;
            found = node;
        }

        return found?.Position ?? new HoconPosition("(configuration)", 0, 0);
    }

    private static void Walk(HoconNode node, OptionsSchema schema, string path, List<(HoconPosition At, string Path, string Text)> problems)
    {
        switch (schema, node)
        {
            case (OptionsSchema.Object o, HoconObject h):
                foreach (var (key, value) in h.Fields)
                {
                    if (o.Fields.TryGetValue(key, out var child))
                        Walk(value, child, $"{path}.{key}", problems);
                    else
                        problems.Add((value.Position, $"{path}.{key}", $"unknown key; {Suggest(key, path, o)}"));
                }

                break;
            case (OptionsSchema.Map m, HoconObject h):
                foreach (var (key, value) in h.Fields)
                    Walk(value, m.Value, $"{path}.{key}", problems);
                break;
            case (OptionsSchema.Object or OptionsSchema.Map, _):
                problems.Add((node.Position, path, $"expected an object ({{ ... }}), not {Describe(node)}"));
                break;
            case (OptionsSchema.List l, HoconArray a):
                for (var i = 0; i < a.Items.Count; i++)
                {
                    if (a.Items[i] is not HoconScalar item)
                        problems.Add((a.Items[i].Position, $"{path}[{i}]", $"expected a {OptionsSchema.Name(l.Element)}, not {Describe(a.Items[i])}"));
                    else if (OptionsSchema.Check(l.Element, item) is { } bad)
                        problems.Add((item.Position, $"{path}[{i}]", bad));
                }

                break;
            case (OptionsSchema.List l, _):
                problems.Add((node.Position, path, $"expected a list of {OptionsSchema.Name(l.Element)}s, like [\"a\", \"b\"], not {Describe(node)}"));
                break;
            case (OptionsSchema.Scalar s, HoconScalar v):
                if (OptionsSchema.Check(s.Type, v) is { } problem)
                    problems.Add((v.Position, path, problem));
                break;
            case (OptionsSchema.Scalar s, _):
                problems.Add((node.Position, path, $"expected a {OptionsSchema.Name(s.Type)}, not {Describe(node)}"));
                break;
        }
    }

    private static string Describe(HoconNode node) => node switch
    {
        HoconObject => "an object",
        HoconArray => "a list",
        HoconScalar s => $"'{s.Text}'",
        _ => "this",
    };

    /// <summary>"did you mean virt.vm.stop-timeout?" when a known key is close; else the keys that exist there.</summary>
    private static string Suggest(string key, string path, OptionsSchema.Object known)
    {
        var nearest = known.Fields.Keys.Select(k => (Key: k, Distance: (int)Osa.Distance(key, k))).OrderBy(x => x.Distance).ThenBy(x => x.Key, StringComparer.Ordinal).FirstOrDefault();
        if (nearest.Key is not null && nearest.Distance <= Math.Max(2, key.Length / 3))
            return $"did you mean {path}.{nearest.Key}?";
        return $"the keys under {path} are {string.Join(", ", known.Fields.Keys.Order(StringComparer.Ordinal))}";
    }
}
