using Virt.Shell.Parsing;

namespace Virt.Shell.Execution;

/// <summary>Turns what went wrong into one line on stderr and the exit status that says what kind of thing it was.</summary>
internal static class Outcome
{
    public static async Task<int> Of(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (ApiException ex)
        {
            return Fail(ExitCode.Refused, ex.Message);
        }
        catch (UsageException ex)
        {
            return Fail(ExitCode.Usage, ex.Message);
        }
        catch (UnreachableException ex)
        {
            return Fail(ExitCode.Unreachable, ex.Message);
        }
        catch (WaitTimedOutException ex)
        {
            return Fail(ExitCode.TimedOut, ex.Message);
        }
    }

    public static int Fail(int code, string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"virt: {message}");
        return code;
    }
}
