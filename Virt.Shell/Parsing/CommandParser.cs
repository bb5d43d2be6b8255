using Virt.Shell.Palettes;

namespace Virt.Shell.Parsing;

/// <summary>
/// Reads the words of a command against the palettes: <c>PALETTE [COMMAND] [ARGUMENTS] [OPTIONS]</c>, options as
/// <c>--name value</c>, <c>--name=value</c> or an alias, <c>--</c> ending the options. Every mistake is one
/// <see cref="UsageException"/> saying what was wrong and what would be right.
/// </summary>
internal static class CommandParser
{
    /// <summary>A <see cref="ParsedCommand"/> or a <see cref="HelpRequest"/>.</summary>
    public static object Parse(Palettes.Palettes palettes, IReadOnlyList<string> words)
    {
        if (words.Count == 0 || words[0] is "--help" or "-h")
            return new HelpRequest(null, null);
        var palette = palettes.Find(words[0])
            ?? throw new UsageException($"unknown command '{words[0]}'{Nearest.Hint(words[0], palettes.All.Select(p => p.Name))}; 'virt help' lists the commands");
        var rest = words.Skip(1).ToList();
        var named = rest.Count > 0 ? palette.Commands.FirstOrDefault(c => c.Name.Length > 0 && c.Name == rest[0]) : null;
        PaletteCommand command;
        if (named is not null)
        {
            command = named;
            rest.RemoveAt(0);
        }
        else if (Palettes.Palettes.Direct(palette) is { } direct)
        {
            command = direct;
        }
        else if (rest.Count == 0 || rest[0] is "--help" or "-h")
        {
            return new HelpRequest(palette, null);
        }
        else
        {
            var names = palette.Commands.Select(c => c.Name).Where(n => n.Length > 0).ToList();
            throw new UsageException($"{palette.Name}: unknown command '{rest[0]}'{Nearest.Hint(rest[0], names)}; the commands are {string.Join(", ", names)}");
        }

        return ParseCommand(palette, command, rest);
    }

    private static object ParseCommand(Palette palette, PaletteCommand command, List<string> words)
    {
        var title = command.Name.Length == 0 ? palette.Name : $"{palette.Name} {command.Name}";
        var arguments = Palettes.Palettes.Arguments(command);
        var options = Palettes.Palettes.Options(command);
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var position = 0;
        var optionsEnded = false;
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            if (!optionsEnded && word == "--")
            {
                optionsEnded = true;
                continue;
            }

            if (!optionsEnded && word.Length > 1 && word[0] == '-' && !IsNumber(word))
            {
                var eq = word.IndexOf('=');
                var key = eq > 0 ? word[..eq] : word;
                var option = Find(options, key)
                    ?? throw new UsageException($"{title}: unknown option {key}{Nearest.Hint(key, options.Select(o => o.Name))}; see 'virt help {title}'");
                if (option.Name == StandardOption.Help)
                    return new HelpRequest(palette, command);
                string value;
                if (!ValueTypes.TakesValue(option))
                {
                    if (eq > 0)
                        throw new UsageException($"{title}: {option.Name} takes no value");
                    value = "true";
                }
                else if (eq > 0)
                {
                    value = word[(eq + 1)..];
                }
                else if (i + 1 < words.Count)
                {
                    value = words[++i];
                }
                else
                {
                    throw new UsageException($"{title}: {option.Name} needs a value{Expected(option)}");
                }

                Add(title, values, option, value);
                continue;
            }

            if (position >= arguments.Count)
            {
                throw new UsageException(arguments.Count == 0
                    ? $"{title}: unexpected '{word}' (it takes no arguments); see 'virt help {title}'"
                    : $"{title}: unexpected '{word}' (it takes {string.Join(" ", arguments.Select(a => a.Name))}); see 'virt help {title}'");
            }

            // A repeatable argument (the last one: KEYS...) takes every word left.
            Add(title, values, arguments[position].Repeat ? arguments[position] : arguments[position++], word);
        }

        foreach (var missing in arguments.Skip(position).Where(a => a.Required && !values.ContainsKey(a.Name)))
            throw new UsageException($"{title}: give {missing.Name}; usage: {Palettes.Palettes.Usage(palette, command)}");
        if (command.OneOf is { Count: > 0 } oneOf && oneOf.Count(values.ContainsKey) != 1)
        {
            throw new UsageException(oneOf.Any(values.ContainsKey)
                ? $"{title}: give {string.Join(" or ", oneOf)}, not both; usage: {Palettes.Palettes.Usage(palette, command)}"
                : $"{title}: give {string.Join(" or ", oneOf)}; usage: {Palettes.Palettes.Usage(palette, command)}");
        }

        if (values.ContainsKey(StandardOption.Timeout) && !values.ContainsKey(StandardOption.Wait))
            throw new UsageException($"{title}: --timeout applies to --wait; add --wait");
        return new ParsedCommand(palette, command, values);
    }

    public static Parameter? Find(IEnumerable<Parameter> options, string key) =>
        options.FirstOrDefault(o => o.Name == key || (o.Aliases?.Contains(key) ?? false));

    private static void Add(string title, Dictionary<string, List<string>> values, Parameter parameter, string value)
    {
        ValueTypes.Check(title, parameter, value);
        if (!values.TryGetValue(parameter.Name, out var list))
            values[parameter.Name] = list = [];
        else if (!parameter.Repeat)
            throw new UsageException($"{title}: {parameter.Name} is given twice (it takes one value)");
        list.Add(value);
    }

    private static string Expected(Parameter option) => option.Type switch
    {
        "int" => " (a whole number)",
        "size" => " (a size like 2GiB)",
        "choice" when option.Choices is { } c => $" (one of {string.Join(", ", c)})",
        "file" or "json-file" => " (a file)",
        _ => "",
    };

    private static bool IsNumber(string word) => word.Length > 1 && word[0] == '-' && word.Skip(1).All(char.IsAsciiDigit);
}
