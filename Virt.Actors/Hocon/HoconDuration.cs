using System.Globalization;

namespace Virt.Hocon;

/// <summary>HOCON durations: <c>500ms</c>, <c>5s</c>, <c>2m</c>, <c>1 hour</c>; a bare number is milliseconds.</summary>
public static class HoconDuration
{
    private static readonly (string[] Units, double Ticks)[] Units =
    [
        (["ns", "nano", "nanos", "nanosecond", "nanoseconds"], 0.01),
        (["us", "micro", "micros", "microsecond", "microseconds"], TimeSpan.TicksPerMicrosecond),
        (["ms", "milli", "millis", "millisecond", "milliseconds"], TimeSpan.TicksPerMillisecond),
        (["s", "second", "seconds"], TimeSpan.TicksPerSecond),
        (["m", "minute", "minutes"], TimeSpan.TicksPerMinute),
        (["h", "hour", "hours"], TimeSpan.TicksPerHour),
        (["d", "day", "days"], TimeSpan.TicksPerDay),
    ];

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        var (number, unit) = HoconUnits.Split(text.Trim());
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value); // also accept 00:00:05
        var ticksPerUnit = unit.Length == 0 ? TimeSpan.TicksPerMillisecond : Units.FirstOrDefault(u => u.Units.Contains(unit)).Ticks;
        if (ticksPerUnit == 0 || double.IsNaN(amount) || Math.Abs(amount * ticksPerUnit) > TimeSpan.MaxValue.Ticks)
            return false;
        value = TimeSpan.FromTicks((long)Math.Round(amount * ticksPerUnit));
        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value)
            ? value
            : throw new FormatException($"'{text}' is not a duration; write a number with a unit such as 500ms, 5s, 2m, 1h");
}

/// <summary>HOCON sizes: <c>512MiB</c>, <c>4G</c> (K, M, G, T and KiB.. are powers of 1024; kB, MB.. of 1000).</summary>
public static class HoconSize
{
    private static readonly Dictionary<string, double> Units = new(StringComparer.Ordinal)
    {
        [""] = 1, ["B"] = 1, ["b"] = 1, ["byte"] = 1, ["bytes"] = 1,
        ["K"] = 1L << 10, ["k"] = 1L << 10, ["Ki"] = 1L << 10, ["KiB"] = 1L << 10, ["kibibyte"] = 1L << 10, ["kibibytes"] = 1L << 10,
        ["M"] = 1L << 20, ["m"] = 1L << 20, ["Mi"] = 1L << 20, ["MiB"] = 1L << 20, ["mebibyte"] = 1L << 20, ["mebibytes"] = 1L << 20,
        ["G"] = 1L << 30, ["g"] = 1L << 30, ["Gi"] = 1L << 30, ["GiB"] = 1L << 30, ["gibibyte"] = 1L << 30, ["gibibytes"] = 1L << 30,
        ["T"] = 1L << 40, ["t"] = 1L << 40, ["Ti"] = 1L << 40, ["TiB"] = 1L << 40, ["tebibyte"] = 1L << 40, ["tebibytes"] = 1L << 40,
        ["kB"] = 1e3, ["kilobyte"] = 1e3, ["kilobytes"] = 1e3,
        ["MB"] = 1e6, ["megabyte"] = 1e6, ["megabytes"] = 1e6,
        ["GB"] = 1e9, ["gigabyte"] = 1e9, ["gigabytes"] = 1e9,
        ["TB"] = 1e12, ["terabyte"] = 1e12, ["terabytes"] = 1e12,
    };

    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        var (number, unit) = HoconUnits.Split(text.Trim());
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || !Units.TryGetValue(unit, out var factor))
            return false;
        var total = amount * factor;
        if (double.IsNaN(total) || total > long.MaxValue || total < long.MinValue)
            return false;
        bytes = (long)Math.Round(total);
        return true;
    }

    public static long Parse(string text) =>
        TryParse(text, out var value)
            ? value
            : throw new FormatException($"'{text}' is not a size; write a number with a unit such as 512MiB, 4G, 100MB");
}

internal static class HoconUnits
{
    /// <summary>Splits "512 MiB" into ("512", "MiB").</summary>
    public static (string Number, string Unit) Split(string text)
    {
        var i = text.Length;
        while (i > 0 && char.IsLetter(text[i - 1]))
            i--;
        return (text[..i].TrimEnd(), text[i..]);
    }
}
