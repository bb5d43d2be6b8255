namespace Virt.Shell.Interactive;

/// <summary>
/// The interactive shell's history: kept in a file (<c>$VIRT_HISTORY</c>, else <c>$XDG_STATE_HOME/virt/history</c>,
/// else <c>~/.local/state/virt/history</c>), one command a line, the newest last, at most <see cref="Limit"/> kept.
/// </summary>
internal sealed class History
{
    public const int Limit = 1000;
    private readonly List<string> _entries;
    private readonly string? _file;

    private History(string? file, List<string> entries) => (_file, _entries) = (file, entries);

    public IReadOnlyList<string> Entries => _entries;

    public static History Load()
    {
        var file = FilePath();
        var entries = new List<string>();
        try
        {
            if (file is not null && File.Exists(file))
                entries.AddRange(File.ReadAllLines(file).Where(l => l.Length > 0).TakeLast(Limit));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"virt: cannot read the history {file}: {ex.Message}; this session's commands are not kept");
            file = null;
        }

        return new History(file, entries);
    }

    /// <summary>Adds a command (not a repeat of the last one) and appends it to the file at once, so a killed shell keeps it.</summary>
    public void Add(string line)
    {
        if (line.Length == 0 || (_entries.Count > 0 && _entries[^1] == line))
            return;
        _entries.Add(line);
        if (_file is null)
            return;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_file)!);
            File.AppendAllText(_file, line + "\n");
            if (_entries.Count > Limit * 2)
            {
                _entries.RemoveRange(0, _entries.Count - Limit);
                File.WriteAllLines(_file, _entries);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"virt: cannot write the history {_file}: {ex.Message}");
        }
    }

    private static string? FilePath()
    {
        if (Environment.GetEnvironmentVariable("VIRT_HISTORY") is { Length: > 0 } explicitFile)
            return explicitFile;
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".local", "state") : null;
        return state is null ? null : Path.Combine(state, "virt", "history");
    }
}
