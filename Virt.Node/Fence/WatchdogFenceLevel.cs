using System.Globalization;
using Virt.Actors.Fencing;

namespace Virt.Node.Fence;

/// <summary>
/// The watchdog level: a host that had an armed watchdog (it said so, with its timeout) has been reset by it once
/// that timeout plus a margin has passed since it stopped being a member, because it stops petting as soon as it is
/// not a healthy member (or hangs). A host with no armed watchdog is not fenced by this level.
/// </summary>
internal sealed class WatchdogFenceLevel(TimeSpan margin, TimeProvider time) : IFenceLevel
{
    public string Name => "watchdog";

    public Task<FenceOutcome> Fence(FenceTarget target, CancellationToken cancellationToken)
    {
        if (target.Watchdog is not { } timeout)
            return Task.FromResult(FenceOutcome.NotDone($"{target.Host} had no armed watchdog (virt.fencing.watchdog.device on that host)"));
        var due = target.MembershipEnded + timeout + margin;
        var now = time.GetUtcNow();
        var seconds = (timeout + margin).TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
        return Task.FromResult(now >= due
            ? FenceOutcome.Done($"its watchdog ({timeout.TotalSeconds:0} s) has had {seconds} s to reset it since it stopped being a member at {target.MembershipEnded:HH:mm:ss}Z")
            : FenceOutcome.NotDone($"its watchdog resets it by {due:HH:mm:ss}Z ({(due - now).TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s from now)", due - now));
    }
}
