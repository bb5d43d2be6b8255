namespace Virt.Hocon;

/// <summary>
/// Collects HOCON sources in order (later wins: defaults, then a file, then overrides) and resolves them together,
/// so a substitution in one source sees values from all of them.
/// </summary>
public sealed class HoconDocumentBuilder
{
    private readonly HoconObject _root = new(new HoconPosition("(configuration)", 1, 1));
    private int _overrides;

    public HoconDocumentBuilder AddText(string text, string origin, string? directory = null)
    {
        HoconParser.ParseInto(_root, text, origin, directory, []);
        return this;
    }

    public HoconDocumentBuilder AddFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new HoconException(new HoconPosition(path, 0, 0), "configuration file not found; check the path given to --config");
        var includes = new Stack<string>();
        includes.Push(full);
        HoconParser.ParseInto(_root, File.ReadAllText(full), full, Path.GetDirectoryName(full), [], includes);
        return this;
    }

    /// <summary>
    /// Applies <c>key=value</c>. The value is read as HOCON (<c>["x","y"]</c>, <c>{a=1}</c>, <c>"quoted"</c>, <c>5s</c>);
    /// a value that is not valid HOCON and does not start like a structure is taken as a plain string
    /// (<c>127.0.0.1:9110</c>), so common overrides need no quoting.
    /// </summary>
    public HoconDocumentBuilder AddOverride(string assignment)
    {
        var origin = $"--set #{++_overrides} ({assignment})";
        var at = new HoconPosition(origin, 1, 1);
        var eq = assignment.IndexOf('=');
        if (eq <= 0)
            throw new HoconException(at, "expected key=value, for example --set virt.api.listen=127.0.0.1:9200");
        var key = HoconParser.ParsePath(assignment[..eq].Trim(), origin);
        var text = assignment[(eq + 1)..].Trim();
        HoconNode value;
        if (text.Length == 0)
            value = HoconScalar.String(at, "");
        else if (text[0] is '[' or '{' or '"' || text.StartsWith("${", StringComparison.Ordinal))
            value = HoconParser.ParseSingleValue(text, origin);
        else
        {
            try
            {
                value = HoconParser.ParseSingleValue(text, origin);
            }
            catch (HoconException)
            {
                value = HoconScalar.String(at, text);
            }
        }

        HoconTree.Assign(_root, key, key, value);
        return this;
    }

    /// <summary>Resolves substitutions; <paramref name="environment"/> defaults to the process environment.</summary>
    public HoconObject Resolve(Func<string, string?>? environment = null) =>
        new HoconResolver(_root, environment ?? Environment.GetEnvironmentVariable).Resolve();
}
