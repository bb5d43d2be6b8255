namespace Virt.Actors.Runtime;

/// <summary>Timer messages carry a generation so a timer cancelled after it fired is still never delivered.</summary>
internal sealed record TimerMessage(object Key, long Generation, object Message);

internal sealed class TimerScheduler(ActorCell owner) : ITimerScheduler
{
    private readonly Dictionary<object, (ITimer Timer, long Generation, bool Periodic)> _timers = new();
    private long _generation;

    public void StartSingleTimer(object key, object message, TimeSpan delay) => Start(key, message, delay, periodic: false);

    public void StartPeriodicTimer(object key, object message, TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "a periodic timer needs a positive interval");
        Start(key, message, interval, periodic: true);
    }

    public bool IsTimerActive(object key) => _timers.ContainsKey(key);

    public void Cancel(object key)
    {
        if (_timers.Remove(key, out var t))
            t.Timer.Dispose();
    }

    public void CancelAll()
    {
        foreach (var t in _timers.Values)
            t.Timer.Dispose();
        _timers.Clear();
    }

    /// <summary>True when the fired message still belongs to a live timer; single timers are then forgotten.</summary>
    public bool Accept(TimerMessage message)
    {
        if (!_timers.TryGetValue(message.Key, out var t) || t.Generation != message.Generation)
            return false;
        if (!t.Periodic)
        {
            _timers.Remove(message.Key);
            t.Timer.Dispose();
        }

        return true;
    }

    private void Start(object key, object message, TimeSpan delay, bool periodic)
    {
        Cancel(key);
        var generation = ++_generation;
        var fired = new TimerMessage(key, generation, message);
        var timer = owner.System.Time.CreateTimer(
            static state =>
            {
                var (cell, msg) = ((ActorCell, TimerMessage))state!;
                cell.Tell(msg);
            },
            (owner, fired),
            delay < TimeSpan.Zero ? TimeSpan.Zero : delay,
            periodic ? delay : Timeout.InfiniteTimeSpan);
        _timers[key] = (timer, generation, periodic);
    }
}
