using Virt.Actors.Fencing;

namespace Virt.Node.Fence;

/// <summary>The configured levels of each host, built once from <see cref="FencingOptions"/>.</summary>
internal sealed class FenceLevels(FencingOptions options, TimeProvider time)
{
    private readonly Dictionary<string, IFenceLevel> _levels = new(StringComparer.Ordinal)
    {
        ["power"] = new PowerFenceLevel(options.Power, time),
        ["storage"] = new StorageFenceLevel(),
        ["watchdog"] = new WatchdogFenceLevel(options.Watchdog.Margin, time),
    };

    public IReadOnlyList<IFenceLevel> For(string host) => options.LevelsFor(host).Select(l => _levels[l]).ToList();

    /// <summary>Limit for one level's attempt: the power level's two runs and its wait for off, with room to spare.</summary>
    public TimeSpan LevelTimeout => options.Power.Timeout * 2 + options.Power.OffWait + TimeSpan.FromSeconds(10);
}
