using System.Globalization;

namespace Virt.Hocon;

/// <summary>
/// A HOCON value. After resolution a tree holds only <see cref="HoconObject"/>, <see cref="HoconArray"/> and
/// <see cref="HoconScalar"/>; before it, also substitutions, concatenations and deferred merges.
/// </summary>
public abstract class HoconNode
{
    protected HoconNode(HoconPosition position) => Position = position;

    public HoconPosition Position { get; }
}

public enum HoconScalarKind
{
    String,
    Number,
    Boolean,
    Null,
}

public sealed class HoconScalar(HoconPosition position, HoconScalarKind kind, string? text) : HoconNode(position)
{
    public HoconScalarKind Kind { get; } = kind;

    /// <summary>The value as text: the string itself, the number as written, true/false, or null.</summary>
    public string? Text { get; } = text;

    public static HoconScalar String(HoconPosition at, string value) => new(at, HoconScalarKind.String, value);

    /// <summary>An unquoted token: true/false/null and numbers keep their type, anything else is a string.</summary>
    public static HoconScalar Unquoted(HoconPosition at, string text) => text switch
    {
        "true" or "false" => new HoconScalar(at, HoconScalarKind.Boolean, text),
        "null" => new HoconScalar(at, HoconScalarKind.Null, null),
        _ when IsNumber(text) => new HoconScalar(at, HoconScalarKind.Number, text),
        _ => String(at, text),
    };

    private static bool IsNumber(string text) =>
        text.Length > 0 && (char.IsAsciiDigit(text[0]) || (text[0] == '-' && text.Length > 1 && char.IsAsciiDigit(text[1])))
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
        && !text.EndsWith('.');

    public override string ToString() => Text ?? "null";
}

/// <summary>Fields in the order they were first defined.</summary>
public sealed class HoconObject(HoconPosition position) : HoconNode(position)
{
    private readonly OrderedDictionary<string, HoconNode> _fields = new(StringComparer.Ordinal);

    public IEnumerable<KeyValuePair<string, HoconNode>> Fields => _fields;

    public int Count => _fields.Count;

    public HoconNode? this[string key] => _fields.TryGetValue(key, out var v) ? v : null;

    internal void Set(string key, HoconNode value) => _fields[key] = value;

    internal void Remove(string key) => _fields.Remove(key);

    /// <summary>Walks a dotted path of an already resolved tree.</summary>
    public HoconNode? Find(string dottedPath)
    {
        HoconNode? node = this;
        foreach (var segment in dottedPath.Split('.'))
            node = (node as HoconObject)?[segment];
        return node;
    }
}

public sealed class HoconArray(HoconPosition position, IReadOnlyList<HoconNode> items) : HoconNode(position)
{
    public IReadOnlyList<HoconNode> Items { get; } = items;
}

/// <summary><c>${path}</c> or <c>${?path}</c>.</summary>
internal sealed class HoconSubstitution(HoconPosition position, IReadOnlyList<string> path, bool optional, bool environmentOnly = false) : HoconNode(position)
{
    /// <summary>A self-reference with no earlier value: only the environment can supply it.</summary>
    public bool EnvironmentOnly { get; } = environmentOnly;

    public IReadOnlyList<string> Path { get; } = path;

    public bool Optional { get; } = optional;

    public string DottedPath => string.Join('.', Path);
}

/// <summary>Values written next to each other on one line: joined as strings, or merged objects, or joined arrays.</summary>
internal sealed class HoconConcatenation(HoconPosition position, IReadOnlyList<HoconNode> parts) : HoconNode(position)
{
    /// <summary>Parts; <see cref="HoconWhitespace"/> between values counts only when the result is a string.</summary>
    public IReadOnlyList<HoconNode> Parts { get; } = parts;
}

internal sealed class HoconWhitespace(HoconPosition position, string text) : HoconNode(position)
{
    public string Text { get; } = text;
}

/// <summary>A later value over an earlier one, when the later may turn out to be an object (then the two merge).</summary>
internal sealed class HoconMerge(HoconNode fallback, HoconNode value) : HoconNode(value.Position)
{
    public HoconNode Fallback { get; } = fallback;

    public HoconNode Value { get; } = value;
}

/// <summary>An optional substitution (or self-reference) that found nothing: it contributes no value.</summary>
internal sealed class HoconUndefined(HoconPosition position) : HoconNode(position);
