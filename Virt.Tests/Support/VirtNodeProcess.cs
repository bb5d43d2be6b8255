using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Virt.Tests.Support;

/// <summary>A real virt-node process on a free port; can be SIGKILLed and started again on the same data.</summary>
public sealed class VirtNodeProcess : IAsyncDisposable
{
    private readonly string[] _args;
    private ChildProcess? _process;

    public VirtNodeProcess(string dataDir, string libvirtUri, params string[] overrides)
    {
        _args =
        [
            Binaries.VirtNode,
            "--set", $"virt.data-dir={dataDir}",
            "--set", $"virt.libvirt.uri={libvirtUri}",
            "--set", "virt.api.listen=127.0.0.1:0",
            "--set", "virt.cluster.listen=127.0.0.1:0",
            "--set", "virt.node.name=proc-node",
            .. overrides.SelectMany(o => new[] { "--set", o }),
        ];
    }

    public int? Pid => _process?.Id;

    /// <summary>
    /// A command the node runs under, its own arguments after these: <c>["nsenter", "--net=/run/netns/NS"]</c> runs it
    /// in a network namespace (nsenter execs, so <see cref="Pid"/> is the node's own). Empty: started directly.
    /// </summary>
    public IReadOnlyList<string> Launcher { get; init; } = [];

    /// <summary>Whether it was started and its process has ended (killed, or ended on its own).</summary>
    public bool HasExited => _process is { HasExited: true };

    /// <summary>
    /// Its process runs no more, as the kernel says now: gone, or a zombie not yet reaped (.NET's HasExited follows
    /// the reaping, a moment later). What a fence agent's status sees.
    /// </summary>
    public bool IsDead
    {
        get
        {
            if (Pid is not { } pid)
                return false;
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
            {
                return true;
            }
        }
    }

    public string Address { get; private set; } = "";

    public HttpClient Http { get; private set; } = new();

    /// <param name="waitForHealthy">Wait until /v1/health answers 200 (libvirt connected, VMs recovered, cluster joined).</param>
    public async Task Start(bool waitForHealthy = true)
    {
        _process = Launch();
        var line = await _process.WaitForLine(l => l.Contains("Now listening on: http://"), TimeSpan.FromSeconds(60));
        Address = line[(line.IndexOf("http://", StringComparison.Ordinal) + 7)..].Trim();
        Http = new HttpClient { BaseAddress = new Uri("http://" + Address), Timeout = TimeSpan.FromSeconds(30) };
        if (waitForHealthy)
            await WaitUntilHealthy();
    }

    private ChildProcess Launch() => Launcher.Count == 0
        ? ChildProcess.Start(ChildProcess.Dotnet, _args)
        : ChildProcess.Start(Launcher[0], [.. Launcher.Skip(1), ChildProcess.Dotnet, .. _args]);

    /// <summary>A signal to the running process (SIGSTOP, SIGCONT...).</summary>
    public void Signal(int signal) => _process?.Signal(signal);

    public async Task WaitUntilHealthy()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await Http.GetAsync("/v1/health");
            if (response.StatusCode == System.Net.HttpStatusCode.OK)
                return;
            if (DateTime.UtcNow > deadline)
            {
                var log = string.Join('\n', (_process?.Stdout ?? []).Where(l => l.Contains("warn", StringComparison.Ordinal) || l.Contains("fail", StringComparison.Ordinal)).TakeLast(15));
                throw new TimeoutException($"virt-node at {Address} did not become healthy: {await response.Content.ReadAsStringAsync()}\nits warnings:\n{log}\nstderr: {_process?.Stderr}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Starts it where it is expected to refuse to start: its exit status and what it printed on stderr.</summary>
    public async Task<(int Exit, string Stderr)> StartExpectingRefusal()
    {
        using var process = Launch();
        while (await process.ReadLine(TimeSpan.FromSeconds(60)) is { } line)
        {
            if (line.Contains("Now listening on", StringComparison.Ordinal))
                throw new Xunit.Sdk.XunitException("virt-node started although it should have refused to");
        }

        return (await process.WaitForExit(TimeSpan.FromSeconds(60)), process.Stderr);
    }

    /// <summary>SIGKILL: no shutdown, no flush.</summary>
    public void Kill()
    {
        _process?.Kill();
        Output = _process?.Stdout ?? Output;
        _process?.Dispose();
        _process = null;
    }

    public async Task<JsonNode> Get(string path) => (await Http.GetFromJsonAsync<JsonNode>(path))!;

    /// <summary>The names of the domains running on this node's host, read from its libvirt (GET /v1/node lists them).</summary>
    public async Task<HashSet<string>> RunningDomains() =>
        (await Get("/v1/node"))["domains"]!.AsArray().Where(d => d!["state"]!.GetValue<string>() == "running").Select(d => d!["name"]!.GetValue<string>()).ToHashSet();

    /// <summary>The fence records as this node's API gives them; null while the fencer does not answer (it moves when its node was lost).</summary>
    public async Task<JsonArray?> Fences()
    {
        using var response = await Http.GetAsync("/v1/fences");
        return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!["fences"]!.AsArray() : null;
    }

    /// <summary>SIGTERM, and wait for the process to finish its graceful shutdown; its exit status.</summary>
    public async Task<int> Stop()
    {
        if (_process is null)
            return -1;
        _process.Signal(Posix.SigTerm);
        var exit = await _process.WaitForExit(TimeSpan.FromSeconds(30));
        Output = _process.Stdout;
        _process.Dispose();
        _process = null;
        return exit;
    }

    /// <summary>Waits for the process to end on its own (for example after it was downed); its exit code.</summary>
    public async Task<int> WaitForExit(TimeSpan within)
    {
        if (_process is null)
            return -1;
        var exit = await _process.WaitForExit(within);
        Output = _process.Stdout;
        _process.Dispose();
        _process = null;
        return exit;
    }

    /// <summary>Its log so far (stdout), while it runs.</summary>
    public IReadOnlyList<string> Log => _process?.Stdout ?? Output;

    /// <summary>Every line it wrote to stdout (its log) until it was stopped.</summary>
    public IReadOnlyList<string> Output { get; private set; } = [];

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_process is not null)
        {
            _process.Signal(Posix.SigTerm);
            try
            {
                await _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException)
            {
            }

            _process.Dispose();
        }

        await Task.CompletedTask;
    }
}
