using System.ComponentModel;
using System.Diagnostics;

namespace Virt.Node.Fence;

/// <summary>
/// How one run of a fence agent ended. The agent speaks the fence-agents protocol (ClusterLabs fence-agents,
/// doc/FenceAgentAPI.md): no command-line arguments, <c>key=value</c> lines on standard input, the answer in the
/// exit code.
/// </summary>
internal abstract record FenceAgentRun
{
    private FenceAgentRun()
    {
    }

    /// <summary>The agent exited by itself with <paramref name="Code"/>.</summary>
    public sealed record Exited(int Code, string Stdout, string Stderr) : FenceAgentRun;

    /// <summary>The agent (or a child holding its output) was still running at the time limit; it was killed with its children.</summary>
    public sealed record TimedOut : FenceAgentRun;

    /// <summary>The agent could not be started at all.</summary>
    public sealed record NotStarted(string Why) : FenceAgentRun;

    /// <summary>
    /// Runs <paramref name="agent"/> with <paramref name="input"/> as its standard input, then closes it. Past
    /// <paramref name="timeout"/> (on <paramref name="time"/>) or on <paramref name="cancellationToken"/> the agent's
    /// whole process tree is killed; the token's cancellation is then thrown, the timeout is an answer.
    /// </summary>
    public static async Task<FenceAgentRun> Start(string agent, string input, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(agent)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new Win32Exception($"{agent} did not start");
        }
        catch (Win32Exception e)
        {
            return new NotStarted(e.Message);
        }

        using (process)
        {
            using var limit = new CancellationTokenSource(timeout, time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, cancellationToken);
            var stdout = process.StandardOutput.ReadToEndAsync(either.Token);
            var stderr = process.StandardError.ReadToEndAsync(either.Token);
            try
            {
                try
                {
                    await process.StandardInput.WriteAsync(input.AsMemory(), either.Token);
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // It exited without reading all of its input: its exit code says what happened. Disposing
                    // flushes what is left (and throws again), but closes the pipe all the same.
                    try
                    {
                        process.StandardInput.Dispose();
                    }
                    catch (IOException)
                    {
                    }
                }

                await process.WaitForExitAsync(either.Token);
                // A child it left behind may still hold the output pipes: the same limit covers reading them.
                return new Exited(process.ExitCode, await stdout, await stderr);
            }
            catch (OperationCanceledException)
            {
                KillTree(process);
                cancellationToken.ThrowIfCancellationRequested();
                return new TimedOut();
            }
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
