using System.Xml.Linq;
using Virt.Node.Fence;
using Virt.Tests.Support;

namespace Virt.Tests.Fence;

/// <summary>The test hosts' fence agent answers the fence-agents actions the power level does not use as a real agent would.</summary>
public sealed class FenceTestHostTests
{
    private static async Task<FenceAgentRun.Exited> Run(string input)
    {
        var run = await FenceAgentRun.Start(TestFenceAgent.Path, input, TimeSpan.FromSeconds(20), TimeProvider.System, CancellationToken.None);
        return Assert.IsType<FenceAgentRun.Exited>(run);
    }

    [Fact]
    public async Task On_is_refused()
    {
        using var dir = new TempDirectory();
        TestFenceAgent.WriteHost(dir.Path, "hv-01", []);

        var on = await Run($"action=on\nplug=hv-01\nstate_dir={dir.Path}\n");

        Assert.Equal(1, on.Code);
        Assert.Equal("cannot power on a test host", on.Stderr.Trim());
    }

    [Fact]
    public async Task Monitor_succeeds_and_an_unknown_action_fails()
    {
        Assert.Equal(0, (await Run("action=monitor\n")).Code);

        var unknown = await Run("action=reboot-twice\n");
        Assert.Equal(1, unknown.Code);
        Assert.Contains("unknown action 'reboot-twice'", unknown.Stderr);
    }

    [Fact]
    public async Task Metadata_describes_the_agent_in_xml()
    {
        var metadata = await Run("action=metadata\n");

        Assert.Equal(0, metadata.Code);
        var agent = XDocument.Parse(metadata.Stdout).Root!;
        Assert.Equal("resource-agent", agent.Name.LocalName);
        Assert.Equal("fence_test_host", (string?)agent.Attribute("name"));
        Assert.Equal(["on", "off", "status", "monitor", "metadata"], agent.Element("actions")!.Elements("action").Select(a => (string?)a.Attribute("name")));
        Assert.Contains("plug", agent.Element("parameters")!.Elements("parameter").Select(p => (string?)p.Attribute("name")));
    }

    [Fact]
    public async Task Status_says_on_while_a_listed_process_lives_and_off_once_none_does()
    {
        using var dir = new TempDirectory();
        using var sleeper = ChildProcess.Start("sleep", ["1000"]);
        TestFenceAgent.WriteHost(dir.Path, "hv-01", [sleeper.Id]);
        var status = $"action=status\nplug=hv-01\nstate_dir={dir.Path}\n";

        Assert.Equal(0, (await Run(status)).Code);
        sleeper.Kill();
        Assert.Equal(2, (await Run(status)).Code);
        Assert.Equal(0, (await Run(status + "stuck=on\n")).Code);
    }
}
