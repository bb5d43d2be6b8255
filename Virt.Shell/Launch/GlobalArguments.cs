using System.Text.RegularExpressions;
using Virt.Shell.Parsing;

namespace Virt.Shell.Launch;

/// <summary>
/// The words before a command that pick the node: <c>virt [HOST:PORT] ...</c> (pbm style) or <c>--api HOST:PORT</c>
/// (anywhere before <c>--</c>), else <c>$VIRT_API</c>, else 127.0.0.1:9110.
/// </summary>
internal static partial class GlobalArguments
{
    public static (string Address, List<string> Words) Read(IReadOnlyList<string> args)
    {
        string? address = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                rest.AddRange(args.Skip(i));
                break;
            }

            if (arg == "--api")
            {
                address = i + 1 < args.Count ? args[++i] : throw new UsageException("--api needs a value: HOST:PORT of a virt-node");
                Check(address);
            }
            else if (arg.StartsWith("--api=", StringComparison.Ordinal))
            {
                address = arg[6..];
                Check(address);
            }
            else if (i == 0 && LooksLikeAddress(arg))
            {
                address = arg;
            }
            else
            {
                rest.Add(arg);
            }
        }

        return (address ?? ApiClient.Default, rest);
    }

    public static bool LooksLikeAddress(string word) => AddressPattern().IsMatch(word);

    private static void Check(string address)
    {
        if (!LooksLikeAddress(address))
            throw new UsageException($"--api {address}: not HOST:PORT (like 127.0.0.1:9110 or hv-01:9110)");
    }

    [GeneratedRegex(@"^(https?://)?(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9][A-Za-z0-9.\-]*):\d{1,5}/?$")]
    private static partial Regex AddressPattern();
}
