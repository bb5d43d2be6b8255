using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Virt.Shell.Palettes;
using Virt.Shell.Parsing;

namespace Virt.Shell.Execution;

/// <summary>Turns a parsed command into its HTTP request: each value goes where its parameter's <c>to</c> says (path, query, body).</summary>
internal static class RequestBuilder
{
    public static (HttpMethod Method, string Path, JsonNode? Body) Build(ParsedCommand parsed)
    {
        var request = parsed.Command.Request ?? throw new InvalidOperationException($"{parsed.Title} has no request");
        var parameters = Palettes.Palettes.Arguments(parsed.Command).Concat(parsed.Command.Options ?? []).ToList();
        var query = new List<string>();
        JsonObject? body = null;
        JsonObject? fields = null;
        foreach (var parameter in parameters)
        {
            var given = parsed.Values.TryGetValue(parameter.Name, out var list) ? list : null;
            if (given is null && parameter.Default is { } fallback)
                given = [fallback.ValueKind == JsonValueKind.String ? fallback.GetString()! : fallback.GetRawText()];
            if (given is null || parameter.To is not { } to || to == "path")
                continue;
            if (to.StartsWith("query.", StringComparison.Ordinal))
            {
                foreach (var value in given)
                    query.Add($"{Uri.EscapeDataString(to[6..])}={Uri.EscapeDataString(value)}");
            }
            else if (to == "body")
            {
                body = ReadJsonFile(parsed.Title, parameter, given[^1]);
            }
            else if (to.StartsWith("body.", StringComparison.Ordinal) && parameter.Type is "label" or "label-key")
            {
                // KEY=VALUE sets a label, KEY alone (label-key) removes it (null, in a merge patch); several options may share the object.
                fields ??= new JsonObject();
                var labels = fields[to[5..]] as JsonObject ?? (JsonObject)(fields[to[5..]] = new JsonObject());
                foreach (var value in given)
                {
                    var equals = value.IndexOf('=');
                    if (parameter.Type == "label")
                        labels[value[..equals]] = value[(equals + 1)..];
                    else
                        labels[value] = null;
                }
            }
            else if (to.StartsWith("body.", StringComparison.Ordinal))
            {
                fields ??= new JsonObject();
                fields[to[5..]] = parameter.Repeat
                    ? new JsonArray(given.Select((v, i) => Value(parameter, v, i)).ToArray())
                    : Value(parameter, given[^1], 0);
            }
        }

        if (fields is not null)
        {
            body ??= new JsonObject();
            foreach (var (key, value) in fields.ToList())
            {
                fields.Remove(key);
                body[key] = value; // given on the command line: over the file's
            }
        }

        var path = Fill(request.Path, parsed.Values);
        if (query.Count > 0)
            path += (path.Contains('?') ? "&" : "?") + string.Join('&', query);
        return (new HttpMethod(request.Method.ToUpperInvariant()), path, body);
    }

    /// <summary>
    /// Replaces each <c>{NAME}</c> in a path with the escaped value of that parameter. A part in brackets,
    /// <c>/v1/vms[/{NAME}]/clear-failures</c>, is left out when its parameter was not given.
    /// </summary>
    public static string Fill(string path, IReadOnlyDictionary<string, List<string>> values)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '[' && path.IndexOf(']', i) is var close and > 0)
            {
                var part = path[(i + 1)..close];
                var names = part.Split('{').Skip(1).Select(x => x[..x.IndexOf('}')]);
                if (names.All(values.ContainsKey))
                    sb.Append(Fill(part, values));
                i = close;
                continue;
            }

            var end = path[i] == '{' ? path.IndexOf('}', i) : -1;
            if (end < 0)
            {
                sb.Append(path[i]);
                continue;
            }

            var name = path[(i + 1)..end];
            sb.Append(values.TryGetValue(name, out var v) ? Uri.EscapeDataString(v[^1]) : throw new UsageException($"give {name}"));
            i = end;
        }

        return sb.ToString();
    }

    private static JsonNode? Value(Parameter parameter, string text, int index) => parameter.Type switch
    {
        "int" => JsonValue.Create(long.Parse(text, CultureInfo.InvariantCulture)),
        "flag" => JsonValue.Create(true),
        "disk" => DeviceSyntax.Disk(text, index),
        "nic" => DeviceSyntax.Nic(text),
        _ => JsonValue.Create(text),
    };

    private static JsonObject ReadJsonFile(string title, Parameter parameter, string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new UsageException($"{title}: {parameter.Name} {path}: not a JSON object");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{title}: cannot read {path}: {ex.Message}");
        }
        catch (JsonException ex)
        {
            throw new UsageException($"{title}: {path} is not valid JSON: {ex.Message}");
        }
    }
}
