using System.Reflection;
using Virt.Hocon;

namespace Virt.Node.Configuration;

/// <summary>
/// Builds virt-node's configuration: the embedded defaults (hocon/virt.conf), then the operator's file, then
/// <c>--set</c> overrides, resolved together so a substitution anywhere sees the final values.
/// </summary>
internal static class NodeConfiguration
{
    public static string EmbeddedDefaults()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("virt.conf")
                           ?? throw new InvalidOperationException("virt.conf is not embedded in virt-node");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static HoconObject Load(string? configFile, IEnumerable<string> overrides, Func<string, string?>? environment = null)
    {
        var builder = new HoconDocumentBuilder().AddText(EmbeddedDefaults(), "virt.conf (defaults)");
        if (!string.IsNullOrEmpty(configFile))
            builder.AddFile(configFile);
        foreach (var assignment in overrides)
            builder.AddOverride(assignment);
        return builder.Resolve(environment);
    }
}
