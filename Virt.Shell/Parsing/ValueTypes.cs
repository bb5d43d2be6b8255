using System.Globalization;
using System.Text.RegularExpressions;
using Virt.Shell.Palettes;

namespace Virt.Shell.Parsing;

/// <summary>Checks a value against its parameter's type before anything is sent, so a bad value is a usage error (exit 2) that says what was expected.</summary>
internal static partial class ValueTypes
{
    public static void Check(string command, Parameter parameter, string value)
    {
        string? problem = parameter.Type switch
        {
            "int" => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) ? null : "is not a whole number",
            "size" => SizePattern().IsMatch(value) ? null : "is not a size (like 2GiB, 512MiB, 4G)",
            "duration" => DurationPattern().IsMatch(value) ? null : "is not a duration (like 500ms, 30s, 2m, 1h)",
            "label" => value.IndexOf('=') is > 0 ? null : "is not KEY=VALUE (like app=web)",
            "label-key" => value.Length > 0 && !value.Contains('=') ? null : "is not a label key (like app)",
            "choice" => parameter.Choices is { } choices && !choices.Contains(value) ? $"is not one of {string.Join(", ", choices)}{Nearest.Hint(value, choices)}" : null,
            _ => value.Length == 0 && parameter.Type != "string" ? "is empty" : null,
        };
        if (problem is not null)
            throw new UsageException($"{command}: {parameter.Name} '{value}' {problem}");
    }

    /// <summary>Whether an option takes a value (everything but a flag does).</summary>
    public static bool TakesValue(Parameter parameter) => parameter.Type != "flag";

    [GeneratedRegex(@"^\d+(\.\d+)?\s*([KMGTP]i?B?|B)?$", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();

    [GeneratedRegex(@"^\d+(\.\d+)?\s*(ms|s|m|h|d)$")]
    private static partial Regex DurationPattern();
}
