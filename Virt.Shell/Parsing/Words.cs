using System.Text;

namespace Virt.Shell.Parsing;

/// <summary>A word of a command line and where it starts in the line (completion replaces from there).</summary>
internal readonly record struct Word(string Text, int Start);

/// <summary>Splits a line into words as a POSIX shell does for plain words: spaces separate, 'single' and "double" quotes group, \ escapes.</summary>
internal static class Words
{
    /// <summary>The words of <paramref name="line"/>; <paramref name="open"/> is true when it ends inside quotes.</summary>
    public static List<Word> Split(string line, out bool open)
    {
        var words = new List<Word>();
        var current = new StringBuilder();
        var start = -1;
        char quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == quote)
                    quote = '\0';
                else if (c == '\\' && quote == '"' && i + 1 < line.Length && line[i + 1] is '"' or '\\')
                    current.Append(line[++i]);
                else
                    current.Append(c);
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                if (start >= 0)
                    words.Add(new Word(current.ToString(), start));
                current.Clear();
                start = -1;
                continue;
            }

            if (start < 0)
                start = i;
            if (c is '\'' or '"')
                quote = c;
            else if (c == '\\' && i + 1 < line.Length)
                current.Append(line[++i]);
            else
                current.Append(c);
        }

        if (start >= 0)
            words.Add(new Word(current.ToString(), start));
        open = quote != '\0';
        return words;
    }

    public static List<Word> Split(string line) => Split(line, out _);

    /// <summary>Quotes a word for the line when it needs it (a VM name or a path with spaces).</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsLetterOrDigit(c) || "-_./:=,@+%".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";
}
