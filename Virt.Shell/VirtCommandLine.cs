using System.CommandLine;
using Virt.Shell.Commands;

namespace Virt.Shell;

/// <summary>The <c>virt</c> command tree. <c>--api HOST:PORT</c> (or VIRT_API) picks the virt-node to talk to.</summary>
internal static class VirtCommandLine
{
    public static RootCommand Build()
    {
        var api = new Option<string>("--api")
        {
            Description = "virt-node to talk to, HOST:PORT (default: $VIRT_API, else 127.0.0.1:9110).",
            Recursive = true,
            DefaultValueFactory = _ => ApiClient.Default,
        };
        var root = new RootCommand("virt: the Virt shell. Talks to any virt-node over HTTP.") { api };
        root.Subcommands.Add(VmCommands.Build(api));
        root.Subcommands.Add(NodeCommands.Build(api));
        root.Subcommands.Add(ClusterCommands.Build(api));
        root.Subcommands.Add(EventsCommand.Build(api));
        root.Subcommands.Add(PlanCommand.Build());
        return root;
    }
}
