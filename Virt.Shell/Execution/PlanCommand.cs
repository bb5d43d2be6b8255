using Virt.Scheduler;
using Virt.Shell.Palettes;
using Virt.Shell.Parsing;

namespace Virt.Shell.Execution;

/// <summary><c>virt plan FILE</c>: runs the placement engine on a scenario file inside the shell, offline (what-if planning).</summary>
internal static class PlanCommand
{
    public const string Name = "plan";

    public static int Run(ParsedCommand parsed)
    {
        var path = Path.GetFullPath(parsed.Value("FILE")!);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"virt plan: cannot read {path}: {ex.Message}");
            return ExitCode.Refused;
        }

        try
        {
            var problem = ScenarioReader.Read(text);
            if (parsed.Flag("--cib"))
            {
                Console.Out.WriteLine(PacemakerCib.Export(problem));
                return ExitCode.Done;
            }

            var result = PlacementEngine.Plan(problem);
            Console.Out.WriteLine(parsed.Flag(StandardOption.Json) ? ResultWriter.Json(result) : ResultWriter.Text(result));
            return ExitCode.Done;
        }
        catch (ScenarioException ex)
        {
            Console.Error.WriteLine($"virt plan: {Path.GetFileName(path)}: {ex.Message}");
            return ExitCode.Refused;
        }
    }
}
