using Microsoft.Extensions.Configuration;

namespace Virt.Hocon;

/// <summary>
/// Exposes a resolved HOCON tree as Microsoft.Extensions.Configuration keys: <c>virt.api.listen</c> becomes
/// <c>virt:api:listen</c>, array elements get indexes. Durations and sizes stay text; the options binder reads
/// them through <see cref="HoconTypeConverters"/>.
/// </summary>
public sealed class HoconConfigurationProvider(HoconObject resolved) : ConfigurationProvider
{
    public override void Load()
    {
        Data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Flatten(resolved, null);
    }

    private void Flatten(HoconNode node, string? prefix)
    {
        switch (node)
        {
            case HoconObject o:
                foreach (var (key, value) in o.Fields)
                    Flatten(value, prefix is null ? key : ConfigurationPath.Combine(prefix, key));
                break;
            case HoconArray a:
                for (var i = 0; i < a.Items.Count; i++)
                    Flatten(a.Items[i], ConfigurationPath.Combine(prefix!, i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                break;
            case HoconScalar s when prefix is not null:
                Data[prefix] = s.Text;
                break;
        }
    }
}

public sealed class HoconConfigurationSource(HoconObject resolved) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new HoconConfigurationProvider(resolved);
}

public static class HoconConfigurationExtensions
{
    /// <summary>Adds an already resolved HOCON tree, and lets the binder read durations and sizes.</summary>
    public static IConfigurationBuilder AddHocon(this IConfigurationBuilder builder, HoconObject resolved)
    {
        HoconTypeConverters.Register();
        return builder.Add(new HoconConfigurationSource(resolved));
    }
}
