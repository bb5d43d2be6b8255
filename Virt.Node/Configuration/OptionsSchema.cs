using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Virt.Hocon;

namespace Virt.Node.Configuration;

/// <summary>
/// What keys exist under <c>virt</c> and what each holds, read from the options classes they bind to (so the
/// schema cannot drift from the code): objects with known keys, maps with free keys, lists, and typed scalars.
/// </summary>
internal abstract record OptionsSchema
{
    public sealed record Object(IReadOnlyDictionary<string, OptionsSchema> Fields) : OptionsSchema;

    /// <summary>Free keys (<c>overcommit { vcpu = 4.0 }</c>), each value of one schema.</summary>
    public sealed record Map(OptionsSchema Value) : OptionsSchema;

    public sealed record List(Type Element) : OptionsSchema;

    public sealed record Scalar(Type Type) : OptionsSchema;

    /// <summary>The schema of <paramref name="root"/>'s properties, with <paramref name="sections"/> (path under it, type) merged in as nested objects.</summary>
    public static Object For(Type root, IEnumerable<(string Path, Type Type)> sections)
    {
        var fields = new Dictionary<string, OptionsSchema>(Of(root).Fields, StringComparer.Ordinal);
        foreach (var (path, type) in sections)
            fields[path] = Of(type);
        return new Object(fields);
    }

    public static Object Of(Type type)
    {
        var fields = new Dictionary<string, OptionsSchema>(StringComparer.Ordinal);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true })
                continue; // computed, not configuration
            var key = property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name.ToLowerInvariant();
            fields[key] = OfType(property.PropertyType);
        }

        return new Object(fields);
    }

    private static OptionsSchema OfType(Type type)
    {
        if (IsScalar(type))
            return new Scalar(type);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            return new List(type.GetGenericArguments()[0]);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            return new Map(OfType(type.GetGenericArguments()[1]));
        return Of(type);
    }

    private static bool IsScalar(Type t) =>
        t == typeof(string) || t == typeof(bool) || t == typeof(int) || t == typeof(uint) || t == typeof(long) || t == typeof(double) || t == typeof(TimeSpan);

    /// <summary>Null when <paramref name="value"/> is a valid <paramref name="type"/>; else what is wrong and what to write.</summary>
    public static string? Check(Type type, HoconScalar value)
    {
        var text = value.Text;
        if (value.Kind == HoconScalarKind.Null)
            return $"must not be null; give a {Name(type)}";
        var shown = $"'{text}'";
        if (type == typeof(string))
            return null;
        if (type == typeof(bool))
            return value.Kind == HoconScalarKind.Boolean || text is "true" or "false" ? null : $"{shown} is not true or false";
        if (type == typeof(int))
            return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) ? null : $"{shown} is not a whole number";
        if (type == typeof(uint))
            return uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? null : $"{shown} is not a whole number of 0 or more";
        if (type == typeof(double))
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? null : $"{shown} is not a number";
        if (type == typeof(long))
            return HoconSize.TryParse(text, out _) ? null : $"{shown} is not a size; write a number with a unit, like 512KiB, 1MiB, 4G";
        if (type == typeof(TimeSpan))
            return value.Kind == HoconScalarKind.String && HoconDuration.TryParse(text, out _) ? null : $"{shown} is not a duration; write a number with a unit, like 500ms, 60s, 2m";
        return null;
    }

    public static string Name(Type type) =>
        type == typeof(string) ? "string" :
        type == typeof(bool) ? "true or false" :
        type == typeof(int) || type == typeof(uint) ? "whole number" :
        type == typeof(double) ? "number" :
        type == typeof(long) ? "size (like 1MiB)" :
        type == typeof(TimeSpan) ? "duration (like 60s)" : type.Name;
}
