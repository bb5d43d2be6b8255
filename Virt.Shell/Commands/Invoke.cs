namespace Virt.Shell.Commands;

/// <summary>Runs a command against the API and maps failures to exit codes: 1 refused by virt-node, 2 usage, 3 unreachable.</summary>
internal static class Invoke
{
    public static async Task<int> Api(string address, Func<ApiClient, Task<int>> action)
    {
        using var client = new ApiClient(address);
        try
        {
            return await action(client);
        }
        catch (ApiException ex)
        {
            await Console.Error.WriteLineAsync($"virt: {ex.Message}");
            return 1;
        }
        catch (UsageException ex)
        {
            await Console.Error.WriteLineAsync($"virt: {ex.Message}");
            return 2;
        }
        catch (UnreachableException ex)
        {
            await Console.Error.WriteLineAsync($"virt: {ex.Message}");
            return 3;
        }
    }
}

/// <summary>The command line itself is wrong (a --disk that does not parse, a missing file).</summary>
internal sealed class UsageException(string message) : Exception(message);
