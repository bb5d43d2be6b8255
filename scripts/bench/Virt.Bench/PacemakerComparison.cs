using System.Diagnostics;
using System.Xml.Linq;
using Virt.Scheduler;

namespace Virt.Bench;

/// <summary>
/// Peer comparison with Pacemaker: the same generated scenario is exported as a CIB and run through
/// <c>crm_simulate -R</c> (a real process), and through our engine, on a few sizes. Prints time, VMs placed and the
/// spread of node load (standard deviation of mean utilisation over up nodes) for both. No N+X here: Pacemaker has none.
/// </summary>
internal static class PacemakerComparison
{
    public static async Task Run()
    {
        if (!File.Exists("/usr/sbin/crm_simulate"))
        {
            Console.WriteLine("  crm_simulate not found: install pacemaker-cli-utils (scripts/compare-pacemaker does)");
            return;
        }

        var dir = Directory.CreateTempSubdirectory("virt-pcmk-");
        try
        {
            Console.WriteLine($"  {"nodes",6} {"VMs",6} | {"crm_simulate ms",15} {"placed",7} {"spread",7} | {"virt engine ms",14} {"virt plan ms",12} {"placed",7} {"spread",7} | {"speedup",8}");
            foreach (var (nodes, vms) in new[] { (10, 100), (25, 250), (50, 500), (100, 1000) }) // crm_simulate needs ~4 min at 100 nodes; far longer above
            {
                var problem = ClusterGenerator.Cluster(nodes, vms, vms / 50, vms / 20, seed: nodes, reserve: 0);
                var scenario = Path.Combine(dir.FullName, $"s{nodes}.json");
                var cib = Path.Combine(dir.FullName, $"s{nodes}.xml");
                await File.WriteAllTextAsync(scenario, ScenarioWriter.Json(problem));
                await File.WriteAllTextAsync(cib, PacemakerCib.Export(problem));

                var (pcmkMs, pcmkPlaced) = await CrmSimulate(cib);
                for (var i = 0; i < 20; i++)
                    PlacementEngine.Plan(problem); // warm: the balancer runs in a long-lived process
                var runs = Enumerable.Range(0, 9).Select(_ => PlacementEngine.Plan(problem)).OrderBy(r => r.ElapsedMs).ToList();
                var ours = runs[runs.Count / 2];
                var virtWall = await VirtPlanWall(scenario);
                var oursPlaced = ours.Decisions.ToDictionary(d => d.Vm, d => d.To!);
                Console.WriteLine(
                    $"  {nodes,6} {vms,6} | {pcmkMs,15:N1} {pcmkPlaced.Count,7} {Spread(problem, pcmkPlaced),7:P1} | {ours.ElapsedMs,14:N1} {virtWall,12:N0} {oursPlaced.Count,7} {Spread(problem, oursPlaced),7:P1} | {pcmkMs / ours.ElapsedMs,7:N0}x");
            }

            Console.WriteLine("  speedup = crm_simulate wall time / virt engine time (median of warm runs); 'virt plan ms' is one whole virt process, .NET start-up and JIT included");
            await Constructs(dir.FullName);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Each rule kind and action on its own: README's placement examples (one per construct, running VMs and date
    /// rules included) through crm_simulate and the engine, VM by VM: what each would start, move or stop.
    /// </summary>
    private static async Task Constructs(string dir)
    {
        Console.WriteLine();
        Console.WriteLine("  per construct (README's placement examples): what each starts, moves or stops");
        foreach (var (name, json) in ReadmeScenarios())
        {
            PlacementProblem problem;
            try
            {
                problem = ScenarioReader.Read(json);
            }
            catch (ScenarioException)
            {
                continue; // the example of a mistake
            }

            var cib = Path.Combine(dir, name + ".xml");
            await File.WriteAllTextAsync(cib, PacemakerCib.Export(problem));
            var theirs = await CrmActions(cib, PacemakerCib.ReferenceTime(problem));
            var ours = new Dictionary<string, string>();
            foreach (var d in PlacementEngine.Plan(problem).Decisions)
                ours[d.Vm] = d.Kind switch { DecisionKind.Stop => "stop", DecisionKind.Migrate => $"move {d.To}", _ => $"start {d.To}" };
            var differ = ours.Keys.Union(theirs.Keys).Order(StringComparer.Ordinal)
                .Where(vm => ours.GetValueOrDefault(vm) != theirs.GetValueOrDefault(vm))
                .Select(vm => $"{vm}: virt {ours.GetValueOrDefault(vm) ?? "-"}, crm_simulate {theirs.GetValueOrDefault(vm) ?? "-"}").ToList();
            var gaps = PacemakerCib.Gaps(problem);
            Console.WriteLine($"  {name,-12} {(differ.Count == 0 ? "same" : string.Join("; ", differ))}{(gaps.Count == 0 ? "" : $" [not as in Virt: {string.Join("; ", gaps)}]")}");
        }

        Console.WriteLine("  (a node choice can differ where both are valid: balance ties are broken differently)");
    }

    /// <summary>The scenarios of README's placement section, named by the file name its output line uses.</summary>
    private static IEnumerable<(string Name, string Json)> ReadmeScenarios()
    {
        var readme = File.ReadAllText("README.md");
        var start = readme.IndexOf("## Placement: `virt plan`", StringComparison.Ordinal);
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var blocks = new List<string>();
        var current = new List<string>();
        foreach (var line in readme[start..end].Split('\n').Append(""))
        {
            if (line.StartsWith("    "))
                current.Add(line[4..]);
            else if (line.Trim().Length == 0 && current.Count > 0)
            {
                blocks.Add(string.Join('\n', current));
                current.Clear();
            }
        }

        for (var i = 0; i + 1 < blocks.Count; i++)
        {
            if (blocks[i].TrimStart().StartsWith('{') && blocks[i + 1].StartsWith("$ virt plan "))
                yield return (Path.GetFileNameWithoutExtension(blocks[i + 1].Split('\n')[0]["$ virt plan ".Length..].Trim()), blocks[i]);
        }
    }

    /// <summary>crm_simulate's transition for a CIB at a given time: per resource "start n", "move n" or "stop".</summary>
    private static async Task<Dictionary<string, string>> CrmActions(string cib, DateTimeOffset now)
    {
        var info = new ProcessStartInfo("/usr/sbin/crm_simulate") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-R", "-x", cib, "-t", now.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), "--output-as=xml" })
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var actions = new Dictionary<string, string>();
        foreach (var a in XDocument.Parse(output).Descendants("rsc_action").Where(a => (string?)a.Attribute("blocked") != "true"))
        {
            var vm = (string)a.Attribute("resource")!;
            actions[vm] = (string?)a.Attribute("action") switch
            {
                "start" => $"start {(string?)a.Attribute("node")}",
                "migrate" or "move" => $"move {(string?)a.Attribute("dest")}",
                "stop" => "stop",
                var other => other ?? "?",
            };
        }

        return actions;
    }

    private static async Task<(double Ms, Dictionary<string, string> Placed)> CrmSimulate(string cib)
    {
        var info = new ProcessStartInfo("/usr/sbin/crm_simulate") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-R", "-x", cib, "--output-as=xml" })
            info.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var ms = sw.Elapsed.TotalMilliseconds;
        var placed = XDocument.Parse(output).Descendants("rsc_action")
            .Where(a => (string?)a.Attribute("action") == "start" && (string?)a.Attribute("blocked") != "true")
            .ToDictionary(a => (string)a.Attribute("resource")!, a => (string)a.Attribute("node")!);
        return (ms, placed);
    }

    private static async Task<double> VirtPlanWall(string scenario)
    {
        var virt = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "Virt.Shell", "bin", "Release", "net10.0", "virt.dll");
        if (!File.Exists(virt))
            return double.NaN;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true };
        foreach (var a in new[] { virt, "plan", scenario, "--json" })
            info.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return sw.Elapsed.TotalMilliseconds;
    }

    /// <summary>Standard deviation of per-node mean utilisation over up nodes.</summary>
    private static double Spread(PlacementProblem problem, Dictionary<string, string> placement)
    {
        var vms = problem.Vms.ToDictionary(v => v.Name);
        var loads = problem.Nodes.Where(n => n.State == NodeState.Up).Select(n =>
        {
            var here = placement.Where(p => p.Value == n.Name).Select(p => vms[p.Key]).ToList();
            return n.Capacity.Keys.Average(dim =>
            {
                var cap = n.Capacity[dim] * (problem.Overcommit?.GetValueOrDefault(dim, 1.0) ?? 1.0);
                return cap <= 0 ? 0 : here.Sum(v => v.Demand.GetValueOrDefault(dim)) / cap;
            });
        }).ToList();
        var mean = loads.Average();
        return Math.Sqrt(loads.Average(l => (l - mean) * (l - mean)));
    }
}
