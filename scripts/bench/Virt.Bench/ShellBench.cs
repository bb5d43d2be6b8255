using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using Virt.Tests.Support;

namespace Virt.Bench;

/// <summary>
/// Issue 15's figures: a one-shot <c>virt</c> command against a local virt-node, as a whole process (start, palettes,
/// request, print, exit), and the interactive shell until its prompt is up, each for the native (AOT) build and the
/// JIT build side by side. The node runs as its own process so it does not share the bench's runtime.
/// </summary>
internal static class ShellBench
{
    private const int Runs = 40;
    private const int WarmUps = 10; // the node's own JIT warms up on the first requests

    public static async Task Run()
    {
        var aot = Path.Combine(Binaries.RepoRoot, "Virt.Shell", "bin", "aot", "virt");
        if (!File.Exists(aot))
        {
            Console.WriteLine($"  the native virt is not built ({aot}); scripts/bench/run shell builds it through scripts/virt");
            return;
        }

        using var dir = new TempDirectory("virt-bench-shell");
        var host = Path.Combine(dir.Path, "host.xml");
        File.WriteAllText(host, "<node><cpu><mhz>2000</mhz><model>bench</model><active>32</active><max>32</max><nodes>1</nodes><sockets>1</sockets><cores>32</cores><threads>1</threads></cpu><memory>134217728</memory></node>");
        using var node = ChildProcess.Start(ChildProcess.Dotnet,
            [Binaries.VirtNode, "--set", $"virt.data-dir={dir.Path}", "--set", $"virt.libvirt.uri=test://{host}", "--set", "virt.api.listen=127.0.0.1:0", "--set", "virt.node.name=bench"]);
        var line = await node.WaitForLine(l => l.Contains("Now listening on: http://"), TimeSpan.FromSeconds(60));
        var address = line[(line.IndexOf("http://", StringComparison.Ordinal) + 7)..].Trim();
        using var http = new HttpClient { BaseAddress = new Uri("http://" + address) };
        while (!(await http.GetAsync("/v1/health")).IsSuccessStatusCode)
            await Task.Delay(20);
        for (var i = 1; i <= 3; i++)
            (await http.PostAsJsonAsync("/v1/vms", new { name = $"web-{i}", vcpus = 2, memory = "2GiB" })).EnsureSuccessStatusCode();

        // The node's own JIT compiles and then re-compiles (tiered) its handlers over the first requests: not the shell's cost.
        for (var i = 0; i < 500; i++)
        {
            foreach (var path in new[] { "/v1/palettes", "/v1/vms", "/v1/vms/web-1" })
                await http.GetStringAsync(path);
        }

        var builds = new (string Name, string File, string[] Prefix)[]
        {
            ("AOT", aot, []),
            ("JIT", ChildProcess.Dotnet, [Binaries.Virt]),
        };
        Console.WriteLine($"  whole-process wall time, p50 / p90 of {Runs} runs (10 for the shell) after {WarmUps} warm-ups; node on {address} (3 VMs)");
        foreach (var (what, args, goal) in new (string, string[], string?)[]
                 {
                     ("virt vm list", ["vm", "list"], "< 30 ms (AOT)"),
                     ("virt vm show web-1 --json", ["vm", "show", "web-1", "--json"], null),
                     ("virt plan (offline, 2 nodes, 2 VMs)", ["plan", Scenario(dir)], null),
                 })
        {
            foreach (var (name, file, prefix) in builds)
            {
                var times = new List<double>();
                for (var i = 0; i < Runs + WarmUps; i++)
                {
                    var ms = await OneShot(file, [.. prefix, address, .. args]);
                    if (i >= WarmUps)
                        times.Add(ms);
                }

                times.Sort();
                Report.Line($"{what} [{name}]", $"{Report.Percentile(times, 50):0.0} / {Report.Percentile(times, 90):0.0} ms", name == "AOT" ? goal : null);
            }
        }

        foreach (var (name, file, prefix) in builds)
        {
            var command = string.Join(' ', new[] { file }.Concat(prefix).Append(address).Select(a => "'" + a + "'"));
            var times = new List<double>();
            for (var i = 0; i < 10 + WarmUps; i++)
            {
                var ms = await UntilPrompt(command, "virt:bench> ");
                if (i >= WarmUps)
                    times.Add(ms);
            }

            times.Sort();
            Report.Line($"interactive shell until its prompt, in a pty [{name}]", $"{Report.Percentile(times, 50):0.0} / {Report.Percentile(times, 90):0.0} ms", name == "AOT" ? "< 50 ms" : null);
        }
        node.Signal(15);
        await node.WaitForExit(TimeSpan.FromSeconds(10));
    }

    private static async Task<double> OneShot(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var ms = watch.Elapsed.TotalMilliseconds;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        await stdout;
        return ms;
    }

    /// <summary>Runs <paramref name="command"/> in a pseudo-terminal (util-linux script) and times it until <paramref name="prompt"/> is printed, then types exit.</summary>
    private static async Task<double> UntilPrompt(string command, string prompt)
    {
        var info = new ProcessStartInfo("script", ["-qfec", command, "/dev/null"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        info.Environment["NO_COLOR"] = "1";
        info.Environment["TERM"] = "xterm";
        info.Environment["VIRT_HISTORY"] = Path.Combine(Path.GetTempPath(), "virt-bench-history");
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        _ = process.StandardError.ReadToEndAsync();
        var seen = new StringBuilder();
        var buffer = new char[4096];
        double ms = double.NaN;
        while (await process.StandardOutput.ReadAsync(buffer) is var n and > 0)
        {
            seen.Append(buffer, 0, n);
            if (seen.ToString().Contains(prompt, StringComparison.Ordinal))
            {
                ms = watch.Elapsed.TotalMilliseconds;
                await process.StandardInput.WriteAsync("exit\r");
                await process.StandardInput.FlushAsync();
                break;
            }
        }

        await process.WaitForExitAsync();
        return double.IsNaN(ms) ? throw new InvalidOperationException($"no prompt from {command}: {seen}") : ms;
    }

    private static string Scenario(TempDirectory dir)
    {
        var path = dir.File("scenario.json");
        File.WriteAllText(path, """
            {"nodes": [{"name": "n1", "capacity": {"vcpu": 8, "memory_mib": 16384}}, {"name": "n2", "capacity": {"vcpu": 8, "memory_mib": 16384}}],
             "vms": [{"name": "a", "demand": {"vcpu": 2, "memory_mib": 4096}}, {"name": "b", "demand": {"vcpu": 2, "memory_mib": 4096}}],
             "action": {"kind": "place"}}
            """);
        return path;
    }
}
