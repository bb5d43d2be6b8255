using System.Text;

namespace Virt.Hocon;

/// <summary>
/// Reads HOCON text straight into a tree that accumulates every source (defaults, the file, its includes,
/// overrides), merging fields as they come. Doing the merge while parsing is what lets a self-reference
/// (<c>path = ${path}":/more"</c>) capture the value the field had before.
/// Written by hand: no HOCON package is available to us.
/// </summary>
internal sealed class HoconParser
{
    private const string Forbidden = "$\"{}[]:=,+#`^?!@*&\\";
    private readonly string _text;
    private readonly string _origin;
    private readonly string? _directory;
    private readonly Stack<string> _includes;
    private int _pos;
    private int _line = 1;
    private int _column = 1;

    private HoconParser(string text, string origin, string? directory, Stack<string> includes)
    {
        _text = text;
        _origin = origin;
        _directory = directory;
        _includes = includes;
    }

    /// <summary>Parses a whole document and merges its fields into <paramref name="target"/> (whose path is <paramref name="prefix"/>).</summary>
    public static void ParseInto(HoconObject target, string text, string origin, string? directory, IReadOnlyList<string> prefix, Stack<string>? includes = null)
    {
        var parser = new HoconParser(text, origin, directory, includes ?? new Stack<string>());
        parser.ParseDocument(target, prefix);
    }

    /// <summary>Parses a dotted key such as <c>virt."odd.key".name</c> into its segments.</summary>
    public static List<string> ParsePath(string text, string origin)
    {
        var parser = new HoconParser(text, origin, null, new Stack<string>());
        parser.SkipWhitespace();
        var path = parser.ParseKey();
        parser.SkipWhitespace();
        if (!parser.AtEnd)
            throw parser.Error($"unexpected '{parser.Peek()}' in the key '{text}'");
        return path;
    }

    /// <summary>Parses one value (as on the right of '='), for overrides.</summary>
    public static HoconNode ParseSingleValue(string text, string origin)
    {
        var parser = new HoconParser(text, origin, null, new Stack<string>());
        parser.SkipWhitespace();
        var value = parser.ParseValue([]);
        parser.SkipWhitespace();
        parser.SkipComment();
        if (!parser.AtEnd)
            throw parser.Error($"unexpected '{parser.Peek()}' after the value");
        return value;
    }

    private bool AtEnd => _pos >= _text.Length;

    private HoconPosition Here => new(_origin, _line, _column);

    private char Peek(int ahead = 0) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

    private bool StartsWith(string s) => string.CompareOrdinal(_text, _pos, s, 0, s.Length) == 0;

    private char Next()
    {
        var c = _text[_pos++];
        if (c == '\n')
        {
            _line++;
            _column = 1;
        }
        else
        {
            _column++;
        }

        return c;
    }

    private HoconException Error(string problem, HoconPosition? at = null) => new(at ?? Here, problem);

    private static bool IsWhitespace(char c) => c != '\n' && (char.IsWhiteSpace(c) || c == '\uFEFF');

    private void SkipWhitespace()
    {
        while (!AtEnd && IsWhitespace(Peek()))
            Next();
    }

    private bool AtComment => Peek() == '#' || (Peek() == '/' && Peek(1) == '/');

    private void SkipComment()
    {
        if (!AtComment)
            return;
        while (!AtEnd && Peek() != '\n')
            Next();
    }

    /// <summary>Skips whitespace, newlines and comments (between fields and array elements).</summary>
    private void SkipBlank()
    {
        while (!AtEnd)
        {
            if (IsWhitespace(Peek()) || Peek() == '\n')
                Next();
            else if (AtComment)
                SkipComment();
            else
                break;
        }
    }

    private void ParseDocument(HoconObject target, IReadOnlyList<string> prefix)
    {
        SkipBlank();
        if (Peek() == '{')
        {
            var open = Here;
            Next();
            ParseFields(target, prefix, '}', open);
        }
        else
        {
            ParseFields(target, prefix, null, Here);
        }

        SkipBlank();
        if (!AtEnd)
            throw Error($"unexpected '{Peek()}' after the end of the document");
    }

    private void ParseFields(HoconObject target, IReadOnlyList<string> prefix, char? close, HoconPosition opened)
    {
        while (true)
        {
            SkipBlank();
            if (AtEnd)
            {
                if (close is null)
                    return;
                throw Error($"expected '{close}' to close the object opened at {opened.Line}:{opened.Column}, found the end of the file");
            }

            if (close is { } c && Peek() == c)
            {
                Next();
                return;
            }

            if (Peek() == ',')
                throw Error("unexpected ','; expected a key");

            if (AtInclude())
                ParseInclude(target, prefix);
            else
                ParseField(target, prefix);

            SkipWhitespace();
            if (AtComment)
                SkipComment();
            if (Peek() == ',')
                Next();
            else if (!AtEnd && Peek() != '\n' && Peek() != close)
                throw Error($"expected ',' or a new line after a field, found '{Peek()}'");
        }
    }

    private void ParseField(HoconObject target, IReadOnlyList<string> prefix)
    {
        var keyAt = Here;
        var key = ParseKey();
        var fullPath = prefix.Concat(key).ToArray();
        SkipWhitespace();
        if (Peek() == '{')
        {
            ParseObjectInto(HoconTree.ObjectAt(target, key, keyAt), fullPath);
            return;
        }

        var append = false;
        if (Peek() is ':' or '=')
        {
            Next();
        }
        else if (StartsWith("+="))
        {
            Next();
            Next();
            append = true;
        }
        else
        {
            throw Error(AtEnd || Peek() == '\n'
                ? $"expected ':', '=', '+=' or '{{' after key '{string.Join('.', key)}', found the end of the line"
                : $"expected ':', '=', '+=' or '{{' after key '{string.Join('.', key)}', found '{Peek()}'");
        }

        SkipWhitespace();
        if (!append && Peek() == '{' && IsLoneObject())
        {
            ParseObjectInto(HoconTree.ObjectAt(target, key, keyAt), fullPath);
            return;
        }

        var valueAt = Here;
        var value = ParseValue(fullPath);
        if (append)
        {
            // a += v  is  a = ${?a} [v]
            value = new HoconConcatenation(valueAt, [new HoconSubstitution(valueAt, fullPath, optional: true), new HoconArray(valueAt, [value])]);
        }

        HoconTree.Assign(target, key, fullPath, value);
    }

    /// <summary>True when the '{' here starts an object that is the whole value (not part of a concatenation).</summary>
    private bool IsLoneObject()
    {
        var depth = 0;
        var inString = false;
        for (var i = _pos; i < _text.Length; i++)
        {
            var c = _text[i];
            if (inString)
            {
                if (c == '\\')
                    i++;
                else if (c == '"')
                    inString = false;
                continue;
            }

            if (c == '"')
                inString = true;
            else if (c == '{')
                depth++;
            else if (c == '}' && --depth == 0)
            {
                var j = i + 1;
                while (j < _text.Length && IsWhitespace(_text[j]))
                    j++;
                return j >= _text.Length || _text[j] is '\n' or ',' or '}' or '#' || (_text[j] == '/' && j + 1 < _text.Length && _text[j + 1] == '/');
            }
        }

        return true;
    }

    private void ParseObjectInto(HoconObject target, IReadOnlyList<string> path)
    {
        var open = Here;
        Next();
        ParseFields(target, path, '}', open);
    }

    private List<string> ParseKey()
    {
        var segments = new List<string>();
        var current = new StringBuilder();
        var any = false;
        while (!AtEnd)
        {
            var c = Peek();
            if (c == '"')
            {
                current.Append(ParseQuoted());
                any = true;
            }
            else if (c == '.')
            {
                if (!any)
                    throw Error("empty key segment: a key cannot start with '.' or contain '..'");
                segments.Add(current.ToString());
                current.Clear();
                any = false;
                Next();
            }
            else if (IsWhitespace(c) || c == '\n' || Forbidden.Contains(c) || AtComment)
            {
                break;
            }
            else
            {
                current.Append(Next());
                any = true;
            }
        }

        if (!any)
        {
            throw Error(AtEnd ? "expected a key, found the end of the file" : $"expected a key, found '{Peek()}'");
        }

        segments.Add(current.ToString());
        return segments;
    }

    private bool AtInclude()
    {
        if (!StartsWith("include"))
            return false;
        var i = _pos + "include".Length;
        if (i >= _text.Length || !IsWhitespace(_text[i]))
            return false;
        while (i < _text.Length && IsWhitespace(_text[i]))
            i++;
        var rest = _text.AsSpan(i);
        return rest.StartsWith("\"") || rest.StartsWith("file(") || rest.StartsWith("required(") || rest.StartsWith("url(") || rest.StartsWith("classpath(");
    }

    private void ParseInclude(HoconObject target, IReadOnlyList<string> prefix)
    {
        var at = Here;
        _pos += "include".Length;
        _column += "include".Length;
        SkipWhitespace();
        var required = false;
        var closers = 0;
        if (StartsWith("required("))
        {
            Skip("required(");
            required = true;
            closers++;
            SkipWhitespace();
        }

        if (StartsWith("url(") || StartsWith("classpath("))
            throw Error("only file includes are supported: use include \"file\" or include file(\"file\")");
        if (StartsWith("file("))
        {
            Skip("file(");
            closers++;
            SkipWhitespace();
        }

        if (Peek() != '"')
            throw Error("expected a quoted file name after include");
        var name = ParseQuoted();
        for (var i = 0; i < closers; i++)
        {
            SkipWhitespace();
            if (Peek() != ')')
                throw Error($"expected ')' to close the include of \"{name}\"");
            Next();
        }

        var path = Path.GetFullPath(Path.IsPathRooted(name) ? name : Path.Combine(_directory ?? Directory.GetCurrentDirectory(), name));
        if (!File.Exists(path))
        {
            if (required)
                throw Error($"included file not found: {path}", at);
            return; // HOCON: a missing non-required include is ignored
        }

        if (_includes.Contains(path))
            throw Error($"include cycle: {path} is already being read", at);
        _includes.Push(path);
        try
        {
            var included = new HoconParser(File.ReadAllText(path), path, Path.GetDirectoryName(path), _includes);
            included.ParseDocument(target, prefix);
        }
        finally
        {
            _includes.Pop();
        }
    }

    private void Skip(string s)
    {
        foreach (var _ in s)
            Next();
    }

    /// <summary>A value up to the end of the line, ',' or a closing bracket; several pieces make a concatenation.</summary>
    private HoconNode ParseValue(IReadOnlyList<string> path)
    {
        var start = Here;
        var parts = new List<HoconNode>();
        while (!AtEnd)
        {
            var c = Peek();
            if (c is '\n' or ',' or '}' or ']' || AtComment)
                break;
            if (IsWhitespace(c))
            {
                var at = Here;
                var ws = new StringBuilder();
                while (!AtEnd && IsWhitespace(Peek()))
                    ws.Append(Next());
                parts.Add(new HoconWhitespace(at, ws.ToString()));
                continue;
            }

            var partAt = Here;
            if (c == '"')
            {
                parts.Add(HoconScalar.String(partAt, StartsWith("\"\"\"") ? ParseTripleQuoted() : ParseQuoted()));
            }
            else if (c == '{')
            {
                var obj = new HoconObject(partAt);
                ParseObjectInto(obj, path);
                parts.Add(obj);
            }
            else if (c == '[')
            {
                parts.Add(ParseArray(path));
            }
            else if (c == '$' && Peek(1) == '{')
            {
                parts.Add(ParseSubstitution());
            }
            else if (Forbidden.Contains(c))
            {
                throw Error(c == ':'
                    ? "unexpected ':' in a value; quote values that contain ':' (for example \"127.0.0.1:9110\")"
                    : $"unexpected '{c}' in a value; quote the value if '{c}' belongs to it");
            }
            else
            {
                var text = new StringBuilder();
                while (!AtEnd && !IsWhitespace(Peek()) && Peek() != '\n' && !Forbidden.Contains(Peek()) && !AtComment)
                    text.Append(Next());
                parts.Add(HoconScalar.Unquoted(partAt, text.ToString()));
            }
        }

        while (parts.Count > 0 && parts[^1] is HoconWhitespace)
            parts.RemoveAt(parts.Count - 1);
        return parts.Count switch
        {
            0 => throw Error(AtEnd || Peek() == '\n' ? "expected a value, found the end of the line" : $"expected a value, found '{Peek()}'", start),
            1 => parts[0],
            _ => new HoconConcatenation(start, parts),
        };
    }

    private HoconArray ParseArray(IReadOnlyList<string> path)
    {
        var open = Here;
        Next();
        var items = new List<HoconNode>();
        while (true)
        {
            SkipBlank();
            if (AtEnd)
                throw Error($"expected ']' to close the array opened at {open.Line}:{open.Column}, found the end of the file");
            if (Peek() == ']')
            {
                Next();
                return new HoconArray(open, items);
            }

            if (Peek() == ',')
                throw Error("unexpected ','; expected an array element or ']'");
            if (Peek() == '}')
                throw Error($"expected ']' to close the array opened at {open.Line}:{open.Column}, found '}}'");
            items.Add(ParseValue(path));
            SkipWhitespace();
            if (AtComment)
                SkipComment();
            if (Peek() == ',')
                Next();
            else if (!AtEnd && Peek() != '\n' && Peek() != ']')
                throw Error($"expected ',' or ']' in the array, found '{Peek()}'");
        }
    }

    private HoconSubstitution ParseSubstitution()
    {
        var at = Here;
        Next();
        Next();
        var optional = false;
        if (Peek() == '?')
        {
            optional = true;
            Next();
        }

        SkipWhitespace();
        var path = ParseKey();
        SkipWhitespace();
        if (Peek() != '}')
            throw Error($"expected '}}' to close the substitution ${{{(optional ? "?" : "")}{string.Join('.', path)}");
        Next();
        return new HoconSubstitution(at, path, optional);
    }

    private string ParseQuoted()
    {
        var open = Here;
        Next();
        var sb = new StringBuilder();
        while (true)
        {
            if (AtEnd || Peek() == '\n')
                throw Error("unterminated string: expected a closing '\"' before the end of the line", open);
            var c = Next();
            if (c == '"')
                return sb.ToString();
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            if (AtEnd)
                throw Error("unterminated escape at the end of the file");
            var e = Next();
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case '/': sb.Append('/'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    var hex = _pos + 4 <= _text.Length ? _text.Substring(_pos, 4) : "";
                    if (!ushort.TryParse(hex, System.Globalization.NumberStyles.HexNumber, null, out var code))
                        throw Error("expected four hex digits after \\u");
                    Skip(hex);
                    sb.Append((char)code);
                    break;
                default:
                    throw Error($"invalid escape '\\{e}' in a quoted string");
            }
        }
    }

    private string ParseTripleQuoted()
    {
        var open = Here;
        Skip("\"\"\"");
        var start = _pos;
        while (!StartsWith("\"\"\""))
        {
            if (AtEnd)
                throw Error("unterminated \"\"\" string: expected a closing \"\"\"", open);
            Next();
        }

        // Extra quotes just before the closing three belong to the string.
        while (Peek(3) == '"')
            Next();
        var value = _text[start.._pos];
        Skip("\"\"\"");
        return value;
    }
}
