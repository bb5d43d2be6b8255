using Virt.Node.Readiness;

namespace Virt.Tests.VmLifecycle;

/// <summary>The guest's line on the startup_signal port: <c>ready ID</c>, and nothing else, is the signal.</summary>
public sealed class StartupSignalLineTests
{
    [Theory]
    [InlineData("ready abc", "abc")]
    [InlineData("ready 5b0d6f0e-1a2b-4c3d-9e8f-001122334455\r", "5b0d6f0e-1a2b-4c3d-9e8f-001122334455")]
    [InlineData("ready a:b/c.d_e", "a:b/c.d_e")]
    public void A_ready_line_gives_its_id(string line, string id)
    {
        Assert.Equal(id, StartupSignalLine.ReadyId(line));
        Assert.Equal($"ack {id}\n", StartupSignalLine.Ack(id));
    }

    [Theory]
    [InlineData("ready")]
    [InlineData("ready ")]
    [InlineData("ready two words")]
    [InlineData(" ready abc")]
    [InlineData("READY abc")]
    [InlineData("ack abc")]
    [InlineData("hello")]
    public void Any_other_line_is_not_the_signal(string line) => Assert.Null(StartupSignalLine.ReadyId(line));

    [Fact]
    public void An_id_longer_than_64_characters_is_not_the_signal()
    {
        Assert.Equal(new string('x', 64), StartupSignalLine.ReadyId("ready " + new string('x', 64)));
        Assert.Null(StartupSignalLine.ReadyId("ready " + new string('x', 65)));
    }
}
