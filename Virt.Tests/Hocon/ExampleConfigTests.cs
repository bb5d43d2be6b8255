using Virt.Node.Configuration;
using Virt.Tests.Support;

namespace Virt.Tests.Hocon;

/// <summary>Every configuration in hocon/examples passes virt-node's checks as written.</summary>
public sealed class ExampleConfigTests
{
    public static TheoryData<string> Examples() => new(Directory.GetFiles(Path.Combine(Binaries.RepoRoot, "hocon", "examples"), "*.conf").Select(Path.GetFileName).OfType<string>());

    [Theory]
    [MemberData(nameof(Examples))]
    public void An_example_configuration_is_valid(string file)
    {
        var resolved = NodeConfiguration.Load(Path.Combine(Binaries.RepoRoot, "hocon", "examples", file), [], _ => null);
        Assert.Empty(ConfigurationValidator.Check(resolved));
    }
}
