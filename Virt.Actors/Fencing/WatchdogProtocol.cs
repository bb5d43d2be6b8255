using System.Text.Json.Serialization;
using Virt.Actors.Persistence;

namespace Virt.Actors.Fencing;

/// <summary>Asks a node's watchdog petter how its watchdog stands; the answer is a <see cref="WatchdogStatus"/>.</summary>
public sealed record GetWatchdog : IVirtSerializable;

/// <summary>How this node's watchdog stands.</summary>
/// <param name="Armed">The device is open and not disarmed: unless petted, it resets the host within <paramref name="Timeout"/>.</param>
/// <param name="Timeout">The device's timeout when armed (what the device itself took), else null.</param>
/// <param name="Petting">The device (and systemd, under a unit with WatchdogSec=) is being petted: this node is a healthy member.</param>
/// <param name="Reason">Why, in a person's words: the membership health, or why the device is not armed.</param>
public sealed record WatchdogStatus(
    bool Armed,
    [property: JsonPropertyName("timeoutMs"), JsonConverter(typeof(MillisecondsConverter))] TimeSpan? Timeout,
    bool Petting,
    string Reason) : IVirtSerializable;
