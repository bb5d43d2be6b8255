using System.Text.RegularExpressions;

namespace Virt.Node.Readiness;

/// <summary>
/// The guest's side of the startup_signal protocol: one line <c>ready ID</c> (ID: 1 to 64 printable ASCII characters,
/// no spaces), answered by the host with <c>ack ID</c>. Anything else on the port is ignored.
/// </summary>
internal static partial class StartupSignalLine
{
    /// <summary>Lines longer than this are not the protocol; they are dropped unread.</summary>
    public const int MaxLength = 128;

    [GeneratedRegex(@"^ready ([\x21-\x7e]{1,64})$")]
    private static partial Regex ReadyRule();

    /// <summary>The ID of a <c>ready ID</c> line (a trailing carriage return is allowed), or null for any other line.</summary>
    public static string? ReadyId(string line)
    {
        var match = ReadyRule().Match(line.TrimEnd('\r'));
        return match.Success ? match.Groups[1].Value : null;
    }

    public static string Ack(string id) => $"ack {id}\n";
}
