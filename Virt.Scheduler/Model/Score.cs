using System.Globalization;

namespace Virt.Scheduler;

/// <summary>Rule scores: <c>INFINITY</c> (must), <c>-INFINITY</c> (must not), or a finite preference.</summary>
public static class Score
{
    public const double Infinity = double.PositiveInfinity;
    public const double MinusInfinity = double.NegativeInfinity;

    public static string Format(double score) => score switch
    {
        double.PositiveInfinity => "INFINITY",
        double.NegativeInfinity => "-INFINITY",
        _ => score.ToString("0.##", CultureInfo.InvariantCulture),
    };

    public static bool TryParse(string text, out double score)
    {
        switch (text.Trim().ToUpperInvariant())
        {
            case "INFINITY" or "+INFINITY" or "INF" or "+INF":
                score = Infinity;
                return true;
            case "-INFINITY" or "-INF":
                score = MinusInfinity;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out score) && double.IsFinite(score);
        }
    }
}
