using Akka.Actor;
using Virt.Actors.Vm;
using Virt.Node.Agent;
using Virt.Tests.Support;

namespace Virt.Tests.Fence;

/// <summary>
/// The node agent's half of self-fence on libvirt's test driver, whose host file starts domains of its own: two with
/// Virt's metadata that no VM ever asked the agent about (as after a restart of virt-node), and one that is not
/// Virt's. What the agent destroyed is read back from libvirt. The decision of when to fence is checked per reason.
/// </summary>
public sealed class SelfFenceAgentTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-selffence");
    private InProcessNode _node = null!;

    public async Task InitializeAsync()
    {
        const string virts = "<metadata><virt:vm xmlns:virt='https://virt.dev/xmlns/vm/1'><virt:managed-by>virt</virt:managed-by></virt:vm></metadata>";
        File.WriteAllText(_dir.File("host.xml"), $"""
            <node>
              <cpu><mhz>2000</mhz><model>test</model><active>8</active><max>8</max><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads></cpu>
              <memory>8388608</memory>
              <domain type='test'><name>virt-a</name><memory unit='MiB'>128</memory><os><type>hvm</type></os>{virts}</domain>
              <domain type='test'><name>virt-b</name><memory unit='MiB'>128</memory><os><type>hvm</type></os>{virts}</domain>
              <domain type='test'><name>foreign</name><memory unit='MiB'>128</memory><os><type>hvm</type></os><metadata><other xmlns='urn:x'>virt</other></metadata></domain>
            </node>
            """);
        _node = new InProcessNode(_dir.File("node"), "test://" + _dir.File("host.xml"));
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<Dictionary<string, string>> States() => (await _node.Domains()).ToDictionary(d => d.Name, d => d.State);

    [Fact]
    public async Task Fencing_destroys_every_running_domain_with_Virts_metadata_leaves_the_others_and_refuses_all_domain_work_after()
    {
        Assert.Equal(new Dictionary<string, string> { ["virt-a"] = "running", ["virt-b"] = "running", ["foreign"] = "running" }, await States());
        var before = Assert.IsType<DomainObservation>(await _node.Agent.Ask<object>(new ObserveDomain("virt-a", 1, _node.Incarnation), TimeSpan.FromSeconds(10)));
        Assert.True(before.Exists && before.Running); // served before the fence

        var fenced = await _node.Agent.Ask<SelfFenced>(new FenceSelf(Destroy: true, "downed (test)"), TimeSpan.FromSeconds(10));

        Assert.Equal(["virt-a", "virt-b"], fenced.Virts.Order());
        Assert.Equal((true, 1, 0, null), (fenced.Destroyed, fenced.Others, fenced.Failed.Count, fenced.Error));
        Assert.Equal(new Dictionary<string, string> { ["virt-a"] = "shutoff", ["virt-b"] = "shutoff", ["foreign"] = "running" }, await States());
        foreach (var request in new DomainRequest[] { new ObserveDomain("virt-a", 2, _node.Incarnation), new StopDomain("foreign", true, 1, _node.Incarnation) })
        {
            var refused = Assert.IsType<DomainRequestDone>(await _node.Agent.Ask<object>(request, TimeSpan.FromSeconds(10)));
            Assert.Equal((DomainOutcome.Stale, SelfFence.Refusal), (refused.Outcome, refused.Error));
        }

        Assert.Equal("running", (await States())["foreign"]); // the refused stop did nothing
    }

    [Fact]
    public async Task With_self_fence_none_the_agent_names_Virts_running_domains_and_destroys_nothing()
    {
        var fenced = await _node.Agent.Ask<SelfFenced>(new FenceSelf(Destroy: false, "downed (test)"), TimeSpan.FromSeconds(10));

        Assert.Equal(["virt-a", "virt-b"], fenced.Virts.Order());
        Assert.Equal((false, 1, null), (fenced.Destroyed, fenced.Others, fenced.Error));
        Assert.Equal(new Dictionary<string, string> { ["virt-a"] = "running", ["virt-b"] = "running", ["foreign"] = "running" }, await States());
    }

    [Fact]
    public void Only_downing_and_quarantine_make_a_node_fence_itself_never_an_orderly_stop()
    {
        Assert.NotNull(SelfFence.Cause(CoordinatedShutdown.ClusterDowningReason.Instance));
        Assert.NotNull(SelfFence.Cause(new SelfFence.Quarantined(new Address("akka.tcp", "virt", "10.0.0.1", 4053))));
        foreach (var orderly in new CoordinatedShutdown.Reason?[]
                 {
                     null, CoordinatedShutdown.ClrExitReason.Instance, CoordinatedShutdown.ClusterLeavingReason.Instance,
                     CoordinatedShutdown.ActorSystemTerminateReason.Instance, CoordinatedShutdown.ClusterJoinUnsuccessfulReason.Instance,
                     CoordinatedShutdown.UnknownReason.Instance,
                 })
            Assert.Null(SelfFence.Cause(orderly));
    }

    [Theory]
    [InlineData("<domain><name>a</name><metadata><virt:vm xmlns:virt='https://virt.dev/xmlns/vm/1'><virt:managed-by>virt</virt:managed-by></virt:vm></metadata></domain>", true)]
    [InlineData("<domain><name>a</name><metadata><vm xmlns='https://virt.dev/xmlns/vm/1'><managed-by> virt </managed-by><priority>3</priority></vm></metadata></domain>", true)]
    [InlineData("<domain><name>a</name></domain>", false)]
    [InlineData("<domain><name>a</name><metadata><vm xmlns='https://other.example/vm'><managed-by>virt</managed-by></vm></metadata></domain>", false)]
    [InlineData("<domain><name>a</name><metadata><vm xmlns='https://virt.dev/xmlns/vm/1'><managed-by>someone-else</managed-by></vm></metadata></domain>", false)]
    [InlineData("<domain><name>a</name><description>managed-by virt</description></domain>", false)]
    [InlineData("<domain", false)]
    public void A_domain_is_Virts_only_by_its_metadata(string xml, bool virts) => Assert.Equal(virts, SelfFence.IsVirts(xml));
}
