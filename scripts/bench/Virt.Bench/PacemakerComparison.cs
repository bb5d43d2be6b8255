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
        }
        finally
        {
            dir.Delete(recursive: true);
        }
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
