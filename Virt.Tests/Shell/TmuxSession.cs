using System.Diagnostics;
using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary>
/// A program in a real pseudo-terminal: a tmux session on a private server, keys typed with send-keys, the screen
/// read with capture-pane, as a person at a terminal would. Installs tmux when it is missing (as root).
/// </summary>
public sealed class TmuxSession : IDisposable
{
    private readonly string _socket = $"virt-test-{Guid.NewGuid():N}";
    private const string Name = "shell";

    private TmuxSession()
    {
    }

    /// <summary>Starts <paramref name="command"/> (argv) with <paramref name="environment"/>; when it exits the pane stays, ending with "[exited STATUS]".</summary>
    public static TmuxSession Start(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment)
    {
        EnsureTmux();
        var session = new TmuxSession();
        var env = string.Join(' ', environment.Select(e => $"{e.Key}={Quote(e.Value)}"));
        var line = $"env {env} {string.Join(' ', command.Select(Quote))}; echo \"[exited $?]\"; exec cat";
        session.Tmux("new-session", "-d", "-s", Name, "-x", "160", "-y", "50", "sh", "-c", line);
        return session;
    }

    /// <summary>Keys by their tmux names: <c>Tab</c>, <c>Enter</c>, <c>Up</c>, <c>C-r</c>.</summary>
    public void Keys(params string[] keys) => Tmux(["send-keys", "-t", Name, .. keys]);

    /// <summary>Text typed as it is.</summary>
    public void Type(string text) => Tmux("send-keys", "-t", Name, "-l", text);

    /// <summary>The screen as text, wrapped lines joined, trailing blank lines dropped; with <paramref name="escapes"/>, colours as escape sequences.</summary>
    public string Screen(bool escapes = false) => (escapes ? Tmux("capture-pane", "-p", "-J", "-e", "-t", Name) : Tmux("capture-pane", "-p", "-J", "-t", Name)).TrimEnd();

    /// <summary>The screen's last non-empty line (where the cursor's line usually is).</summary>
    public string LastLine() => Screen().Split('\n').LastOrDefault()?.TrimEnd() ?? "";

    public Task<string> WaitFor(Func<string, bool> condition, string what, double seconds = 30) =>
        Eventually.Until(() => Task.FromResult(Screen()), condition, what, seconds);

    public void Dispose()
    {
        try
        {
            Tmux("kill-server");
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private string Tmux(params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-L");
        info.ArgumentList.Add(_socket);
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"tmux {string.Join(' ', args)}: {stderr.Trim()}");
        return stdout.Result;
    }

    private static readonly Lazy<bool> Installed = new(() =>
    {
        if (Run("sh", "-c", "command -v tmux") == 0)
            return true;
        if (Environment.UserName != "root")
            throw new InvalidOperationException("tmux is needed to drive the interactive shell in a terminal: apt-get install -y tmux (or run the tests as root)");
        Run("apt-get", "install", "-y", "-q", "--no-install-recommends", "tmux");
        return Run("sh", "-c", "command -v tmux") == 0 ? true : throw new InvalidOperationException("apt-get install tmux failed");
    });

    private static void EnsureTmux() => _ = Installed.Value;

    private static int Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
