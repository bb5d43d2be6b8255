using System.Globalization;
using Virt.Node.Fence;

namespace Virt.Tests.Support;

/// <summary>
/// The fence agent for test hosts (Support/fence_test_host, copied next to the tests): a test host is the processes
/// listed in <c>&lt;state_dir&gt;/&lt;plug&gt;.pids</c>, and powering it off SIGKILLs them.
/// </summary>
internal static class TestFenceAgent
{
    public static string Path { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "Support", "fence_test_host");

    /// <summary>Registers the processes that make up test host <paramref name="plug"/>.</summary>
    public static void WriteHost(string stateDir, string plug, IEnumerable<int> pids) =>
        File.WriteAllLines(System.IO.Path.Combine(stateDir, $"{plug}.pids"), pids.Select(p => p.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The power.hosts entry that fences test host <paramref name="plug"/> with this agent; <paramref name="extra"/> adds args (stuck, fail_off, record, verbose).</summary>
    public static FencingOptions.PowerHost Entry(string stateDir, string plug, params (string Key, string Value)[] extra)
    {
        var entry = new FencingOptions.PowerHost { Agent = Path };
        entry.Args["plug"] = plug;
        entry.Args["state_dir"] = stateDir;
        foreach (var (key, value) in extra)
            entry.Args[key] = value;
        return entry;
    }

    /// <summary>As the agent sees it: the process exists and is not a zombie (a killed process is one until its parent reaps it).</summary>
    public static bool IsAlive(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return false;
        }

        // The state follows the command name, which is in parentheses and may hold spaces.
        return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
    }
}
