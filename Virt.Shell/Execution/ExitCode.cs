namespace Virt.Shell.Execution;

/// <summary>What <c>virt</c> exits with, for scripts.</summary>
internal static class ExitCode
{
    public const int Done = 0;

    /// <summary>The node refused (its message is printed), or a waited-for VM failed.</summary>
    public const int Refused = 1;

    /// <summary>The command line is wrong (one line says how).</summary>
    public const int Usage = 2;

    public const int Unreachable = 3;

    /// <summary>--wait gave up before the state was reached.</summary>
    public const int TimedOut = 4;
}

/// <summary>--wait ran out of time.</summary>
internal sealed class WaitTimedOutException(string message) : Exception(message);
