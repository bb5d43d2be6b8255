using Virt.Tests.Persistence;

namespace Virt.Tests;

/// <summary>
/// Entry point used only when a test starts this assembly as a child process (<c>dotnet Virt.Tests.dll MODE ...</c>),
/// so a test can kill a real process mid-work. The test runner never calls it.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "journal-writer":
                return await JournalWriterProcess.Run(args[1]);
            default:
                await Console.Error.WriteLineAsync($"unknown helper mode '{args.FirstOrDefault()}'");
                return 2;
        }
    }
}
