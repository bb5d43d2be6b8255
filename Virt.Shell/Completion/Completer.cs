using System.Text.Json.Nodes;
using Virt.Shell.Output;
using Virt.Shell.Palettes;
using Virt.Shell.Parsing;

namespace Virt.Shell.Completion;

/// <summary>
/// What may come at the cursor: palettes, commands, options, choices, file names, and live names from the node
/// (VMs, hosts: each parameter names its source in the palette document). Used by the interactive shell's Tab and
/// by <c>virt __complete</c>, which the bash, zsh and fish scripts call. Never fails: no answer is no candidates.
/// </summary>
internal sealed class Completer(Func<Palettes.Palettes> palettes, Func<ApiClient?> client, IReadOnlyList<string> shellWords)
{
    /// <summary>Where the word being completed starts in <paramref name="line"/>, and the words that fit there.</summary>
    public async Task<(int Start, List<string> Candidates)> Complete(string line, int cursor)
    {
        var head = line[..Math.Min(cursor, line.Length)];
        var words = Words.Split(head, out var open);
        var atNewWord = words.Count == 0 || (!open && char.IsWhiteSpace(head[^1]));
        var partial = atNewWord ? "" : words[^1].Text;
        var start = atNewWord ? head.Length : words[^1].Start;
        var before = (atNewWord ? words : words.Take(words.Count - 1)).Select(w => w.Text).ToList();
        List<string> candidates;
        try
        {
            candidates = await Candidates(before, partial);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            candidates = [];
        }

        return (start, candidates.Where(c => c.StartsWith(partial, StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal).ToList());
    }

    private async Task<List<string>> Candidates(List<string> before, string partial)
    {
        var all = palettes();
        if (before.Count == 0)
            return [.. all.All.Select(p => p.Name), .. shellWords];
        switch (before[0])
        {
            case "help":
                return before.Count switch
                {
                    1 => all.All.Select(p => p.Name).ToList(),
                    2 => all.Find(before[1])?.Commands.Where(c => c.Name.Length > 0).Select(c => c.Name).ToList() ?? [],
                    _ => [],
                };
            case "connect":
                return before.Count == 1 ? await Live(all, all.Source("addresses")) : [];
            case "completion":
                return before.Count == 1 ? ["bash", "zsh", "fish"] : [];
        }

        var palette = all.Find(before[0]);
        if (palette is null)
            return [];
        var rest = before.Skip(1).ToList();
        var command = rest.Count > 0 ? palette.Commands.FirstOrDefault(c => c.Name.Length > 0 && c.Name == rest[0]) : null;
        var names = new List<string>();
        if (command is not null)
        {
            rest.RemoveAt(0);
        }
        else
        {
            command = Palettes.Palettes.Direct(palette);
            if (rest.Count == 0)
                names.AddRange(palette.Commands.Where(c => c.Name.Length > 0).Select(c => c.Name));
            if (command is null)
                return names;
        }

        return [.. names, .. await ForCommand(all, command, rest, partial)];
    }

    private async Task<List<string>> ForCommand(Palettes.Palettes all, PaletteCommand command, List<string> rest, string partial)
    {
        var options = Palettes.Palettes.Options(command);
        var arguments = Palettes.Palettes.Arguments(command);
        var used = new HashSet<string>(StringComparer.Ordinal);
        Parameter? awaiting = null;
        var position = 0;
        foreach (var word in rest)
        {
            if (awaiting is not null)
            {
                awaiting = null;
                continue;
            }

            if (word.StartsWith('-') && CommandParser.Find(options, word.Split('=')[0]) is { } option)
            {
                used.Add(option.Name);
                if (ValueTypes.TakesValue(option) && !word.Contains('='))
                    awaiting = option;
            }
            else if (!word.StartsWith('-'))
            {
                position++;
            }
        }

        if (awaiting is not null)
            return await Values(all, awaiting, partial);
        var free = options.Where(o => o.Repeat || !used.Contains(o.Name)).Select(o => o.Name).ToList();
        if (partial.StartsWith('-'))
            return free;
        if (position < arguments.Count)
            return await Values(all, arguments[position], partial);
        return free;
    }

    private async Task<List<string>> Values(Palettes.Palettes all, Parameter parameter, string partial)
    {
        if (parameter.Choices is { } choices)
            return choices;
        if (parameter.Type is "file" or "json-file")
            return Files(partial);
        return await Live(all, all.Source(parameter.Complete));
    }

    private async Task<List<string>> Live(Palettes.Palettes all, CompletionSource? source)
    {
        if (source is null || client() is not { } api)
            return [];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var answer = await api.Get(source.Path, timeout.Token);
        var items = source.Items is null ? answer : Template.Lookup(answer, source.Items);
        return items is JsonArray array
            ? array.Select(item => Template.Render(source.Value, item)).Where(v => v != "-").Select(Words.Quote).ToList()
            : [];
    }

    private static List<string> Files(string partial)
    {
        var slash = partial.LastIndexOf('/');
        var directory = slash < 0 ? "." : slash == 0 ? "/" : partial[..slash];
        var prefix = slash < 0 ? "" : partial[..(slash + 1)];
        var expanded = directory.StartsWith('~') ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + directory[1..] : directory;
        if (!Directory.Exists(expanded))
            return [];
        return new DirectoryInfo(expanded).EnumerateFileSystemInfos()
            .Select(e => prefix + e.Name + (e is DirectoryInfo ? "/" : ""))
            .ToList();
    }
}
