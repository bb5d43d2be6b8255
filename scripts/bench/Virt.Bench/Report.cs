namespace Virt.Bench;

internal static class Report
{
    public static void Line(string what, double value, string unit, string? target = null) =>
        Console.WriteLine($"  {what,-58} {value,14:N0} {unit,-10}{(target is null ? "" : "  target " + target)}");

    public static void Line(string what, string value, string? target = null) =>
        Console.WriteLine($"  {what,-58} {value,25}{(target is null ? "" : "  target " + target)}");

    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
