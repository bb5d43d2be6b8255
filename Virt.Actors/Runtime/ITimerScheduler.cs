namespace Virt.Actors.Runtime;

/// <summary>
/// Per-actor timers driven by the system's <see cref="TimeProvider"/>. Starting a timer with a key replaces the
/// previous one with that key; a cancelled or replaced timer never delivers, even if it already fired.
/// All timers are cancelled when the actor stops or restarts.
/// </summary>
public interface ITimerScheduler
{
    void StartSingleTimer(object key, object message, TimeSpan delay);

    void StartPeriodicTimer(object key, object message, TimeSpan interval);

    bool IsTimerActive(object key);

    void Cancel(object key);

    void CancelAll();
}
