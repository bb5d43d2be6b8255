namespace Virt.Tests.Harness;

/// <summary>One <see cref="NetLab"/> of three hosts for a test class: the namespaces, PostgreSQL and etcd are set up once.</summary>
public sealed class LabFixture : IAsyncLifetime
{
    public NetLab Lab { get; private set; } = null!;

    public async Task InitializeAsync() => Lab = await NetLab.Start(3);

    public async Task DisposeAsync()
    {
        if (Lab is not null)
            await Lab.DisposeAsync();
    }
}

/// <summary>The harness classes run one at a time: each starts clusters of real processes, and the machine has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HarnessCollection
{
    public const string Name = "harness";
}
