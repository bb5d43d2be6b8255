namespace Virt.Tests.Harness;

/// <summary>
/// Product bugs the harness found, each as a test that failed until the bug was fixed (skipped while it is open, so the
/// suite stays green; the skip goes with the fix).
/// </summary>
[Collection(HarnessCollection.Name)]
public sealed class KnownProductBugTests(LabFixture fixture) : IClassFixture<LabFixture>
{
    [Fact]
    public async Task A_host_that_rejoins_a_cluster_with_vms_as_a_new_incarnation_becomes_healthy()
    {
        await using var cluster = await LabCluster.Start(fixture.Lab, new LabClusterOptions([(8, 8192), (8, 8192), (8, 8192)]));
        LabVm[] vms = [new("a1", Host: "hv-1"), new("b1", Host: "hv-2"), new("c1", Host: "hv-3")];
        await cluster.Deploy(vms);
        var runner = new StepRunner(cluster, vms);
        await runner.Run(new Step(StepKind.Fault, "kill9", "hv-3"));
        await runner.Run(new Step(StepKind.Wait, "fenced", "hv-3"));
        await runner.Run(new Step(StepKind.Wait, "recovered"));

        await cluster["hv-3"].Start(waitForHealthy: true); // throws when /v1/health is not 200 within 60 s
    }
}
