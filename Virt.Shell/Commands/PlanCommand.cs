using System.CommandLine;
using Virt.Scheduler;

namespace Virt.Shell.Commands;

/// <summary><c>virt plan FILE</c>: runs the placement engine on a scenario file, offline (what-if planning).</summary>
internal static class PlanCommand
{
    public static Command Build()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "Scenario JSON: nodes, vms, rules, policy and an action (see README)." };
        var json = new Option<bool>("--json") { Description = "Print the result document as JSON." };
        var cib = new Option<bool>("--cib") { Description = "Print the scenario as a Pacemaker CIB (for crm_simulate) instead of planning." };
        var command = new Command("plan", "Plan placements for a scenario file without a cluster: decisions, unplaced VMs with reasons, N+X reservation.")
        {
            file, json, cib,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            string text;
            try
            {
                text = File.ReadAllText(path.FullName);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"virt plan: cannot read {path.FullName}: {ex.Message}");
                return 1;
            }

            try
            {
                var problem = ScenarioReader.Read(text);
                if (parse.GetValue(cib))
                {
                    Console.WriteLine(PacemakerCib.Export(problem));
                    return 0;
                }

                var result = PlacementEngine.Plan(problem);
                Console.WriteLine(parse.GetValue(json) ? ResultWriter.Json(result) : ResultWriter.Text(result));
                return 0;
            }
            catch (ScenarioException ex)
            {
                Console.Error.WriteLine($"virt plan: {path.Name}: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
