using System.CommandLine;
using Virt.Hocon;
using Virt.Node.Configuration;

namespace Virt.Node.Hosting;

/// <summary>virt-node's command line: which configuration to use, and whether to print it or run.</summary>
internal static class NodeCommandLine
{
    public static RootCommand Build(Func<HoconObject, CancellationToken, Task<int>> run)
    {
        var config = new Option<FileInfo?>("--config", "-c")
        {
            Description = "HOCON file applied over the built-in defaults (see hocon/virt.conf).",
        };
        var set = new Option<string[]>("--set", "-s")
        {
            Description = "Override one key, e.g. --set virt.api.listen=127.0.0.1:9200 or --set 'a.list=[\"x\",\"y\"]'. Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var print = new Option<bool>("--print-config")
        {
            Description = "Check the configuration, print it resolved as JSON, and exit.",
        };
        var root = new RootCommand("virt-node: the Virt daemon that keeps this host's virtual machines running.")
        {
            config, set, print,
        };
        root.SetAction(async (parse, cancellationToken) =>
        {
            HoconObject resolved;
            try
            {
                resolved = NodeConfiguration.Load(parse.GetValue(config)?.FullName, parse.GetValue(set) ?? []);
            }
            catch (HoconException ex)
            {
                await Console.Error.WriteLineAsync($"virt-node: configuration error: {ex.Message}");
                return 2;
            }

            var problems = ConfigurationValidator.Check(resolved);
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                    await Console.Error.WriteLineAsync($"virt-node: configuration error: {problem}");
                return 2;
            }

            if (parse.GetValue(print))
            {
                Console.WriteLine(HoconJson.Write(resolved));
                return 0;
            }

            return await run(resolved, cancellationToken);
        });
        return root;
    }
}
