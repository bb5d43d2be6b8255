namespace Virt.Shell.Output;

/// <summary>Colour only for a person at a terminal: never when output goes to a pipe or a file, nor with NO_COLOR or TERM=dumb.</summary>
internal static class Terminal
{
    public static bool Colour { get; set; } = !Console.IsOutputRedirected
        && Environment.GetEnvironmentVariable("NO_COLOR") is null
        && Environment.GetEnvironmentVariable("TERM") is not "dumb";

    public static string Bold(string text) => Colour ? $"\e[1m{text}\e[0m" : text;

    public static string Dim(string text) => Colour ? $"\e[2m{text}\e[0m" : text;

    public static string Red(string text) => Colour ? $"\e[31m{text}\e[0m" : text;

    /// <summary>A cell coloured by what it says: a VM state (<c>running</c> green, <c>failed</c> red, moving states yellow) or a health.</summary>
    public static string Paint(string? hint, string text)
    {
        if (!Colour || hint is null)
            return text;
        var first = text.TrimStart().Split(' ', 2)[0];
        var code = hint switch
        {
            "state" => first switch
            {
                "running" => "32",
                "failed" => "31",
                "starting" or "stopping" or "recovering" or "placing" or "migrating" => "33",
                _ => null,
            },
            "health" => text.Contains("UNHEALTHY", StringComparison.Ordinal) ? "31" : "32",
            _ => null,
        };
        return code is null ? text : $"\e[{code}m{text}\e[0m";
    }
}
