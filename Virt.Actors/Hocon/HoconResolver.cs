using System.Runtime.CompilerServices;
using System.Text;

namespace Virt.Hocon;

/// <summary>
/// Replaces substitutions by the values they name (or environment variables), performs deferred merges and
/// concatenations, and drops undefined optional values. The result holds only objects, arrays and scalars.
/// </summary>
internal sealed class HoconResolver(HoconObject root, Func<string, string?> environment)
{
    private readonly Dictionary<HoconNode, HoconNode> _resolved = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<HoconNode> _active = new(ReferenceEqualityComparer.Instance);

    public HoconObject Resolve() => (HoconObject)Resolve(root);

    private HoconNode Resolve(HoconNode node)
    {
        if (_resolved.TryGetValue(node, out var done))
            return done;
        if (!_active.Add(node))
        {
            throw new HoconException(node.Position, node is HoconSubstitution s
                ? $"substitution cycle: ${{{s.DottedPath}}} depends on itself"
                : "substitution cycle: this value depends on itself");
        }

        var result = node switch
        {
            HoconScalar or HoconUndefined => node,
            HoconObject o => ResolveObject(o),
            HoconArray a => new HoconArray(a.Position, a.Items.Select(Resolve).Where(i => i is not HoconUndefined).ToList()),
            HoconSubstitution s => Lookup(s),
            HoconConcatenation c => Concatenate(c),
            HoconMerge m => Merge(m),
            _ => throw new HoconException(node.Position, $"internal: cannot resolve {node.GetType().Name}"),
        };
        _active.Remove(node);
        _resolved[node] = result;
        return result;
    }

    private HoconObject ResolveObject(HoconObject o)
    {
        var result = new HoconObject(o.Position);
        foreach (var (key, value) in o.Fields)
        {
            var resolved = Resolve(value);
            if (resolved is not HoconUndefined)
                result.Set(key, resolved);
        }

        return result;
    }

    private HoconNode Lookup(HoconSubstitution s)
    {
        if (!s.EnvironmentOnly && Find(s.Path) is { } found and not HoconUndefined)
            return found;
        if (environment(s.DottedPath) is { } value)
            return HoconScalar.String(s.Position, value);
        if (s.Optional)
            return new HoconUndefined(s.Position);
        throw new HoconException(s.Position,
            $"${{{s.DottedPath}}} is not defined in the configuration nor as an environment variable; define it, or write ${{?{s.DottedPath}}} to make it optional");
    }

    /// <summary>Walks the unresolved tree, resolving only what the path passes through.</summary>
    private HoconNode? Find(IReadOnlyList<string> path)
    {
        HoconNode current = root;
        foreach (var segment in path)
        {
            var obj = current as HoconObject ?? Resolve(current) as HoconObject;
            if (obj?[segment] is not { } next)
                return null;
            current = next;
        }

        return Resolve(current);
    }

    private HoconNode Merge(HoconMerge m)
    {
        var value = Resolve(m.Value);
        if (value is HoconUndefined)
            return Resolve(m.Fallback);
        if (value is HoconObject over && Resolve(m.Fallback) is HoconObject under)
            return MergeObjects(under, over);
        return value;
    }

    private static HoconObject MergeObjects(HoconObject under, HoconObject over)
    {
        var result = new HoconObject(over.Position);
        foreach (var (key, value) in under.Fields)
            result.Set(key, value);
        foreach (var (key, value) in over.Fields)
            result.Set(key, result[key] is HoconObject a && value is HoconObject b ? MergeObjects(a, b) : value);
        return result;
    }

    private HoconNode Concatenate(HoconConcatenation c)
    {
        var parts = c.Parts.Select(p => p is HoconWhitespace ? p : Resolve(p)).ToList();
        var values = parts.Where(p => p is not HoconWhitespace and not HoconUndefined).ToList();
        if (values.Count == 0)
            return new HoconUndefined(c.Position);
        if (values.All(v => v is HoconObject))
            return values.Cast<HoconObject>().Aggregate(MergeObjects);
        if (values.All(v => v is HoconArray))
            return new HoconArray(c.Position, values.SelectMany(v => ((HoconArray)v).Items).ToList());
        if (values.All(v => v is HoconScalar))
        {
            if (values.Count == 1 && parts.Count(p => p is not HoconUndefined) == 1)
                return values[0];
            var text = new StringBuilder();
            var first = parts.FindIndex(p => p is not HoconWhitespace and not HoconUndefined);
            var last = parts.FindLastIndex(p => p is not HoconWhitespace and not HoconUndefined);
            for (var i = first; i <= last; i++)
            {
                text.Append(parts[i] switch
                {
                    HoconWhitespace w => w.Text,
                    HoconScalar s => s.Text ?? "null",
                    _ => "",
                });
            }

            return HoconScalar.String(c.Position, text.ToString());
        }

        var kinds = string.Join(", ", values.Select(v => v switch { HoconObject => "object", HoconArray => "array", _ => "string" }).Distinct());
        throw new HoconException(c.Position, $"cannot join {kinds} on one line: a value must be all strings, all objects or all arrays");
    }
}
