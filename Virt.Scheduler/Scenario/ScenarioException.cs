namespace Virt.Scheduler;

/// <summary>A scenario that cannot be planned; the message names the offending item and what is wrong.</summary>
public sealed class ScenarioException(string message) : Exception(message);
