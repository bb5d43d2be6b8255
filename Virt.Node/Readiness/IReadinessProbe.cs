namespace Virt.Node.Readiness;

/// <summary>
/// One way of seeing that a guest is ready. <see cref="Run"/> calls <c>ready</c> with the evidence each time it sees
/// the guest ready, and returns when it has nothing more to watch (or is cancelled: the domain stopped).
/// Failures to reach the guest are not errors: the probe tries again until cancelled.
/// </summary>
internal interface IReadinessProbe
{
    Task Run(Action<string> ready, CancellationToken cancel);
}
