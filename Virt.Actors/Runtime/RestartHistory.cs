namespace Virt.Actors.Runtime;

/// <summary>
/// A parent's record of one child's recent failures (for the window in <see cref="SupervisorStrategy"/>) and the
/// pending backoff timer, held here so the timer stays rooted until it fires.
/// </summary>
internal sealed class RestartHistory : IDisposable
{
    private readonly Queue<DateTimeOffset> _failures = new();
    private ITimer? _pending;

    /// <summary>Records a failure at <paramref name="now"/> and returns how many fall inside the window.</summary>
    public int Record(DateTimeOffset now, TimeSpan window)
    {
        _failures.Enqueue(now);
        while (_failures.Count > 0 && now - _failures.Peek() > window)
            _failures.Dequeue();
        return _failures.Count;
    }

    public void ScheduleRestart(TimeProvider time, TimeSpan delay, Action restart)
    {
        _pending?.Dispose();
        if (delay <= TimeSpan.Zero)
        {
            restart();
            return;
        }

        _pending = time.CreateTimer(static s => ((Action)s!)(), restart, delay, Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _pending?.Dispose();
}
