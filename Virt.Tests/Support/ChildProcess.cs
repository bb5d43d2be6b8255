using System.Diagnostics;
using System.Threading.Channels;

namespace Virt.Tests.Support;

/// <summary>A real process started by a test; its stdout lines can be awaited, and it dies with the test.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _stderr = [];
    private readonly List<string> _stdout = [];

    private ChildProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
                return;
            }

            lock (_stdout)
                _stdout.Add(e.Data);
            _lines.Writer.TryWrite(e.Data);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                    _stderr.Add(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stderr
    {
        get
        {
            lock (_stderr)
                return string.Join('\n', _stderr);
        }
    }

    /// <summary>Every line printed on stdout so far, read or not.</summary>
    public IReadOnlyList<string> Stdout
    {
        get
        {
            lock (_stdout)
                return _stdout.ToList();
        }
    }

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Runs a tool to its end (in /) and returns its standard output; a non-zero exit throws with everything it printed.</summary>
    public static async Task<string> Output(string program, IEnumerable<string> args, TimeSpan within)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(within);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', info.ArgumentList)} failed ({process.ExitCode}): {await output}{await error}");
        return await output;
    }

    /// <param name="input">Give the process a standard input the test writes to (<see cref="Write"/>).</param>
    public static ChildProcess Start(string fileName, IEnumerable<string> args, IDictionary<string, string>? environment = null, string? workingDirectory = null, bool input = false)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
                info.Environment[k] = v;
        }

        return new ChildProcess(Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}"));
    }

    /// <summary>Writes to the process's standard input (started with input: true).</summary>
    public void Write(string text)
    {
        _process.StandardInput.Write(text);
        _process.StandardInput.Flush();
    }

    /// <summary>Next stdout line, or null when the process closed stdout.</summary>
    public async Task<string?> ReadLine(TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        try
        {
            return await _lines.Reader.WaitToReadAsync(cts.Token) && _lines.Reader.TryRead(out var line) ? line : null;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"process {_process.Id} printed nothing within {within}; stderr: {Stderr}");
        }
    }

    /// <summary>Reads lines until one satisfies <paramref name="match"/>; returns it.</summary>
    public async Task<string> WaitForLine(Func<string, bool> match, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"process {_process.Id}: no matching line within {within}; stderr: {Stderr}");
            var line = await ReadLine(left) ?? throw new InvalidOperationException($"process {_process.Id} exited; stderr: {Stderr}");
            if (match(line))
                return line;
        }
    }

    /// <summary>SIGKILL: no chance to flush or clean up, like a power cut for the process.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async Task<int> WaitForExit(TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM (or another signal) to the process.</summary>
    public void Signal(int signal) => _ = Posix.Kill(_process.Id, signal);

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}

internal static partial class Posix
{
    public const int SigTerm = 15;
    public const int SigUsr1 = 10;
    public const int SigStop = 19;
    public const int SigCont = 18;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
    public static partial int Kill(int pid, int signal);
}
