using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Virt.Shell.Output;

/// <summary>
/// The palettes' output templates: <c>{field}</c> inserts a field of the answer (dotted paths, <c>.</c> for the item
/// itself, <c>last</c> for an array's last element; a parameter such as <c>{NAME}</c> when the answer has no such
/// field), <c>{a??b}</c> the first present, <c>{since|age}</c> through a format (age, time, seconds, join,
/// bool:YES:NO, if, count (of a list), pairs (an object as k=v, k2=v2)). A missing field prints <c>-</c>; inside <c>[...]</c> it drops the whole bracket instead, so
/// <c>[ (last error: {lastError})]</c> appears only when there is one. <c>{{ }} [[ ]]</c> are literal.
/// </summary>
internal static class Template
{
    public static string Render(string template, JsonNode? item, IReadOnlyDictionary<string, List<string>>? parameters = null)
    {
        var position = 0;
        return Segment(template, ref position, item, parameters, optional: false, out _);
    }

    private static string Segment(string t, ref int i, JsonNode? item, IReadOnlyDictionary<string, List<string>>? parameters, bool optional, out bool missing)
    {
        var sb = new StringBuilder();
        missing = false;
        while (i < t.Length)
        {
            var c = t[i];
            if ((c is '{' or '[' or ']' or '}') && i + 1 < t.Length && t[i + 1] == c)
            {
                sb.Append(c);
                i += 2;
                continue;
            }

            if (c == ']' && optional)
            {
                i++;
                return sb.ToString();
            }

            if (c == '[')
            {
                i++;
                var inner = Segment(t, ref i, item, parameters, optional: true, out var innerMissing);
                if (!innerMissing)
                    sb.Append(inner);
                continue;
            }

            if (c == '{')
            {
                var end = t.IndexOf('}', i);
                if (end < 0)
                    throw new FormatException($"template '{t}': '{{' at {i} is not closed");
                var value = Expression(t[(i + 1)..end], item, parameters);
                i = end + 1;
                if (value is null)
                {
                    missing = true;
                    if (!optional)
                        sb.Append('-');
                }
                else
                {
                    sb.Append(value);
                }

                continue;
            }

            sb.Append(c);
            i++;
        }

        return sb.ToString();
    }

    /// <summary>The text for one <c>{...}</c>, or null when the field is absent (or an empty list, or false through <c>|if</c>).</summary>
    private static string? Expression(string expression, JsonNode? item, IReadOnlyDictionary<string, List<string>>? parameters)
    {
        var bar = expression.IndexOf('|');
        var paths = (bar < 0 ? expression : expression[..bar]).Split("??");
        var format = bar < 0 ? null : expression[(bar + 1)..].Split(':');
        JsonNode? node = null;
        string? parameter = null;
        foreach (var path in paths)
        {
            node = Lookup(item, path.Trim());
            if (node is not null)
                break;
            if (parameters is not null && parameters.TryGetValue(path.Trim(), out var given))
            {
                parameter = given[^1];
                break;
            }
        }

        if (parameter is not null)
            return parameter;
        if (node is null)
            return null;
        return format is null ? Text(node) : Format(node, format);
    }

    public static JsonNode? Lookup(JsonNode? node, string path)
    {
        if (path is "." or "")
            return node;
        foreach (var part in path.Split('.'))
        {
            node = node switch
            {
                JsonObject o => o[part],
                JsonArray a when part == "last" => a.Count > 0 ? a[^1] : null,
                JsonArray a when int.TryParse(part, out var index) => index >= 0 && index < a.Count ? a[index] : null,
                _ => null,
            };
            if (node is null)
                return null;
        }

        return node;
    }

    public static string? Text(JsonNode node) => node switch
    {
        JsonArray { Count: 0 } => null,
        JsonArray a => string.Join(", ", a.Select(x => x is null ? "-" : Text(x) ?? "-")),
        JsonObject o => o.ToJsonString(JsonOutput.Compact),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.False => "false",
        JsonValue v when v.GetValueKind() == JsonValueKind.True => "true",
        _ => node.ToJsonString(),
    };

    private static string? Format(JsonNode node, string[] format)
    {
        var kind = node.GetValueKind();
        return format[0] switch
        {
            "age" => kind == JsonValueKind.String && DateTimeOffset.TryParse(node.GetValue<string>(), CultureInfo.InvariantCulture, out var at) ? Age(DateTimeOffset.UtcNow - at) : Text(node),
            "time" => kind == JsonValueKind.String && DateTimeOffset.TryParse(node.GetValue<string>(), CultureInfo.InvariantCulture, out var at) ? at.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture) : Text(node),
            "seconds" => kind == JsonValueKind.Number ? string.Create(CultureInfo.InvariantCulture, $"{node.GetValue<double>() / 1000.0:0.0} s") : Text(node),
            "bool" => kind switch { JsonValueKind.True => format.ElementAtOrDefault(1) ?? "yes", JsonValueKind.False => format.ElementAtOrDefault(2) ?? "no", _ => Text(node) },
            "if" => kind == JsonValueKind.True ? "" : kind == JsonValueKind.False ? null : Text(node),
            "count" => node is JsonArray items ? items.Count.ToString(CultureInfo.InvariantCulture) : Text(node),
            "pairs" => node is JsonObject pairs ? (pairs.Count == 0 ? null : string.Join(", ", pairs.Select(p => $"{p.Key}={(p.Value is null ? "" : Text(p.Value))}"))) : Text(node),
            _ => Text(node), // "join", or a format from a newer node: the plain text
        };
    }

    public static string Age(TimeSpan age) =>
        age.TotalSeconds < 90 ? $"{Math.Max(0, age.TotalSeconds):0}s" : age.TotalMinutes < 90 ? $"{age.TotalMinutes:0}m" : age.TotalHours < 48 ? $"{age.TotalHours:0}h" : $"{age.TotalDays:0}d";
}
