using System.Text;

namespace Virt.Shell.Interactive;

/// <summary>
/// Reads one line at a terminal, emacs keys as in bash: arrows, Home/End, Ctrl-A/E/B/F/K/U/W/L, Alt-B/F, Up/Down
/// through the history, Tab to complete, Ctrl-R to search the history backwards (again for older, Enter runs,
/// an arrow keeps it for editing, Ctrl-G or Esc gives up), Ctrl-C drops the line, Ctrl-D on an empty line ends.
/// A line wider than the terminal scrolls sideways.
/// </summary>
internal sealed class LineEditor(History history, Func<string, int, (int Start, List<string> Candidates)> complete)
{
    private readonly LineState _line = new();
    private string _prompt = "";
    private int _promptWidth;

    /// <summary>The line, or null at the end of input (Ctrl-D on an empty line).</summary>
    public string? ReadLine(string prompt, int promptWidth)
    {
        (_prompt, _promptWidth) = (prompt, promptWidth);
        _line.Set("");
        var browsing = history.Entries.Count; // index into the history while Up/Down walk it
        var draft = "";
        Render();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.KeyChar == '\x12')
            {
                var (found, accept) = Search();
                if (found is null)
                {
                    Render();
                    continue;
                }

                _line.Set(found);
                Render();
                if (!accept.HasValue)
                    return Finish();
                key = accept.Value;
            }

            switch (Classify(key))
            {
                case Key.Enter:
                    return Finish();
                case Key.Cancel:
                    Console.Out.Write("^C\r\n");
                    _line.Set("");
                    browsing = history.Entries.Count;
                    break;
                case Key.EndOfInput when _line.Length == 0:
                    Console.Out.Write("\r\n");
                    return null;
                case Key.EndOfInput or Key.Delete:
                    _line.DeleteForward();
                    break;
                case Key.Backspace:
                    _line.DeleteBack();
                    break;
                case Key.Left:
                    _line.Move(_line.Cursor - 1);
                    break;
                case Key.Right:
                    _line.Move(_line.Cursor + 1);
                    break;
                case Key.Home:
                    _line.Move(0);
                    break;
                case Key.End:
                    _line.Move(_line.Length);
                    break;
                case Key.WordLeft:
                    _line.Move(_line.WordStart());
                    break;
                case Key.WordRight:
                    _line.Move(_line.WordEnd());
                    break;
                case Key.KillToEnd:
                    _line.KillToEnd();
                    break;
                case Key.KillToStart:
                    _line.KillToStart();
                    break;
                case Key.KillWord:
                    _line.KillWordBack();
                    break;
                case Key.Clear:
                    Console.Out.Write("\e[H\e[2J");
                    break;
                case Key.Up when browsing > 0:
                    if (browsing == history.Entries.Count)
                        draft = _line.Text;
                    _line.Set(history.Entries[--browsing]);
                    break;
                case Key.Down when browsing < history.Entries.Count:
                    browsing++;
                    _line.Set(browsing == history.Entries.Count ? draft : history.Entries[browsing]);
                    break;
                case Key.Tab:
                    Complete();
                    break;
                case Key.Text:
                    _line.Insert(key.KeyChar.ToString());
                    break;
            }

            Render();
        }
    }

    private string Finish()
    {
        _line.Move(_line.Length);
        Render();
        Console.Out.Write("\r\n");
        return _line.Text;
    }

    private void Complete()
    {
        var (start, candidates) = complete(_line.Text, _line.Cursor);
        if (candidates.Count == 0)
        {
            Console.Out.Write('\a');
            return;
        }

        var typed = _line.Text[start.._line.Cursor];
        if (candidates.Count == 1)
        {
            var only = candidates[0];
            _line.Replace(start, only.EndsWith('/') || only.EndsWith('=') ? only : only + " ");
            return;
        }

        var common = candidates.Aggregate((a, b) => a[..Enumerable.Range(0, Math.Min(a.Length, b.Length)).TakeWhile(i => a[i] == b[i]).Count()]);
        if (common.Length > typed.Length)
        {
            _line.Replace(start, common);
            return;
        }

        // Nothing more in common: show them all under the line, then the line again.
        var width = Math.Max(1, Width());
        var column = candidates.Max(c => c.Length) + 2;
        var perLine = Math.Max(1, width / column);
        var sb = new StringBuilder("\r\n");
        for (var i = 0; i < candidates.Count; i++)
        {
            sb.Append(candidates[i].PadRight(column));
            if ((i + 1) % perLine == 0 || i == candidates.Count - 1)
                sb.Append("\r\n");
        }

        Console.Out.Write(sb.ToString());
    }

    /// <summary>Ctrl-R: the entry found (null: given up), and the key that ended the search if it should still act (null: Enter, run it).</summary>
    private (string? Found, ConsoleKeyInfo? Then) Search()
    {
        var query = "";
        var index = history.Entries.Count;
        string? match = null;
        var failed = false;

        void Find(int from)
        {
            for (var i = Math.Min(from, history.Entries.Count - 1); i >= 0; i--)
            {
                if (history.Entries[i].Contains(query, StringComparison.Ordinal))
                {
                    (index, match, failed) = (i, history.Entries[i], false);
                    return;
                }
            }

            failed = true;
        }

        while (true)
        {
            var shown = match ?? "";
            var label = failed ? "(failed reverse-i-search)" : "(reverse-i-search)";
            var text = $"{label}`{query}': {shown}";
            var at = match is null ? text.Length : text.Length - shown.Length + Math.Max(0, shown.IndexOf(query, StringComparison.Ordinal));
            Console.Out.Write($"\r{Fit(text)}\e[K");
            var back = Math.Min(text.Length, Width() - 1) - Math.Min(at, Width() - 1);
            if (back > 0)
                Console.Out.Write($"\e[{back}D");

            var key = Console.ReadKey(intercept: true);
            switch (key.KeyChar)
            {
                case '\x12':
                    if (query.Length > 0)
                        Find(index - 1);
                    continue;
                case '\x07' or '\x03' or '\e':
                    return (null, null);
                case '\r' or '\n':
                    return (match, null);
                case '\b' or '\x7f':
                    if (query.Length > 0)
                        query = query[..^1];
                    match = null;
                    if (query.Length > 0)
                        Find(history.Entries.Count - 1);
                    continue;
            }

            if (Classify(key) == Key.Text)
            {
                query += key.KeyChar;
                Find(match is null ? history.Entries.Count - 1 : index);
                continue;
            }

            return match is null ? (null, null) : (match, key);
        }
    }

    private void Render()
    {
        var width = Width();
        var room = Math.Max(8, width - _promptWidth - 1);
        var text = _line.Text;
        var offset = _line.Cursor > room ? _line.Cursor - room : 0;
        var visible = text.Substring(offset, Math.Min(room, text.Length - offset));
        var back = offset + visible.Length - _line.Cursor;
        Console.Out.Write($"\r{_prompt}{visible}\e[K{(back > 0 ? $"\e[{back}D" : "")}");
    }

    private static string Fit(string text)
    {
        var width = Width() - 1;
        return text.Length <= width ? text : text[..width];
    }

    private static int Width()
    {
        try
        {
            return Console.WindowWidth is > 0 and var w ? w : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    private enum Key
    {
        None, Text, Enter, Cancel, EndOfInput, Backspace, Delete, Left, Right, Home, End, WordLeft, WordRight,
        KillToEnd, KillToStart, KillWord, Clear, Up, Down, Tab,
    }

    private static Key Classify(ConsoleKeyInfo key)
    {
        var alt = key.Modifiers.HasFlag(ConsoleModifiers.Alt);
        var control = key.Modifiers.HasFlag(ConsoleModifiers.Control);
        return key.Key switch
        {
            ConsoleKey.Enter => Key.Enter,
            ConsoleKey.Tab => Key.Tab,
            ConsoleKey.Backspace => Key.Backspace,
            ConsoleKey.Delete => Key.Delete,
            ConsoleKey.LeftArrow => control || alt ? Key.WordLeft : Key.Left,
            ConsoleKey.RightArrow => control || alt ? Key.WordRight : Key.Right,
            ConsoleKey.Home => Key.Home,
            ConsoleKey.End => Key.End,
            ConsoleKey.UpArrow => Key.Up,
            ConsoleKey.DownArrow => Key.Down,
            ConsoleKey.B when alt => Key.WordLeft,
            ConsoleKey.F when alt => Key.WordRight,
            _ => key.KeyChar switch
            {
                '\r' or '\n' => Key.Enter,
                '\t' => Key.Tab,
                '\x01' => Key.Home,
                '\x02' => Key.Left,
                '\x03' => Key.Cancel,
                '\x04' => Key.EndOfInput,
                '\x05' => Key.End,
                '\x06' => Key.Right,
                '\b' or '\x7f' => Key.Backspace,
                '\x0b' => Key.KillToEnd,
                '\x0c' => Key.Clear,
                '\x0e' => Key.Down,
                '\x10' => Key.Up,
                '\x15' => Key.KillToStart,
                '\x17' => Key.KillWord,
                var c when !char.IsControl(c) && c != '\0' && !alt => Key.Text,
                _ => Key.None,
            },
        };
    }
}
