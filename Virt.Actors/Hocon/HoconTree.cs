namespace Virt.Hocon;

/// <summary>The merge rules applied while sources are parsed into one tree.</summary>
internal static class HoconTree
{
    /// <summary>The object at <paramref name="path"/> under <paramref name="target"/>, created or merged as HOCON says.</summary>
    public static HoconObject ObjectAt(HoconObject target, IEnumerable<string> path, HoconPosition at)
    {
        var current = target;
        foreach (var segment in path)
            current = ChildObject(current, segment, at);
        return current;
    }

    /// <summary>Sets a field. A later object merges with an earlier one; any other later value replaces it.</summary>
    public static void Assign(HoconObject target, IReadOnlyList<string> key, IReadOnlyList<string> fullPath, HoconNode value)
    {
        var parent = key.Count == 1 ? target : ObjectAt(target, key.Take(key.Count - 1), value.Position);
        var name = key[^1];
        var previous = parent[name];
        value = ReplaceSelfReferences(value, fullPath, previous);
        if (previous is not null && MayBeObject(value))
            value = new HoconMerge(previous, value);
        parent.Set(name, value);
    }

    private static HoconObject ChildObject(HoconObject parent, string name, HoconPosition at)
    {
        switch (parent[name])
        {
            case HoconObject existing:
                return existing;
            case HoconMerge { Value: HoconObject existing }:
                return existing;
            case null or HoconScalar or HoconArray or HoconUndefined:
                var fresh = new HoconObject(at);
                parent.Set(name, fresh);
                return fresh;
            case var unresolved:
                // Might resolve to an object: merge with it later.
                var over = new HoconObject(at);
                parent.Set(name, new HoconMerge(unresolved, over));
                return over;
        }
    }

    private static bool MayBeObject(HoconNode value) =>
        value is HoconObject or HoconSubstitution or HoconConcatenation or HoconMerge;

    /// <summary><c>a = ${a} ...</c> refers to the value <c>a</c> had before this assignment.</summary>
    private static HoconNode ReplaceSelfReferences(HoconNode node, IReadOnlyList<string> fullPath, HoconNode? previous)
    {
        switch (node)
        {
            case HoconSubstitution s when s.Path.SequenceEqual(fullPath):
                if (previous is not null)
                    return previous;
                return s.Optional ? new HoconUndefined(s.Position) : new HoconSubstitution(s.Position, s.Path, false, environmentOnly: true);
            case HoconConcatenation c:
                var parts = c.Parts.Select(p => ReplaceSelfReferences(p, fullPath, previous)).ToList();
                return parts.SequenceEqual(c.Parts) ? c : new HoconConcatenation(c.Position, parts);
            case HoconArray a:
                var items = a.Items.Select(i => ReplaceSelfReferences(i, fullPath, previous)).ToList();
                return items.SequenceEqual(a.Items) ? a : new HoconArray(a.Position, items);
            default:
                return node;
        }
    }
}
