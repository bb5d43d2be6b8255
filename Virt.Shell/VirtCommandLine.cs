using System.CommandLine;
using Virt.Shell.Commands;

namespace Virt.Shell;

/// <summary>The <c>virt</c> command tree.</summary>
internal static class VirtCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("virt: the Virt shell. Talks to any virt-node over HTTP (default 127.0.0.1:9110).");
        root.Subcommands.Add(PlanCommand.Build());
        return root;
    }
}
