namespace Virt.Tests.Support;

/// <summary>Runs the real <c>virt</c> binary as an operator would, and captures what it printed and its exit status.</summary>
public static class VirtCli
{
    public static Task<(int Exit, string Out, string Err)> Against(string address, params string[] args) =>
        Run(new Dictionary<string, string> { ["VIRT_API"] = address }, args);

    public static Task<(int Exit, string Out, string Err)> Run(Dictionary<string, string> env, params string[] args) => RunIn(null, env, args);

    /// <summary>Runs <c>virt</c> in <paramref name="workingDirectory"/> (null: the test's own), where its relative paths are read.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunIn(string? workingDirectory, Dictionary<string, string> env, params string[] args)
    {
        using var process = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.Virt, .. args], env, workingDirectory);
        var lines = new List<string>();
        while (await process.ReadLine(TimeSpan.FromSeconds(60)) is { } line)
            lines.Add(line);
        return (await process.WaitForExit(TimeSpan.FromSeconds(60)), string.Join('\n', lines), process.Stderr);
    }
}
