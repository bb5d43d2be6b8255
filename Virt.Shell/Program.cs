using Virt.Shell.Execution;
using Virt.Shell.Interactive;
using Virt.Shell.Launch;
using Virt.Shell.Parsing;

List<string> rest;
string address;
try
{
    (address, rest) = GlobalArguments.Read(args);
}
catch (UsageException ex)
{
    return Outcome.Fail(ExitCode.Usage, ex.Message);
}

if (rest.Count == 0)
    return await InteractiveShell.Run(address);

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C ends a --follow or a --wait cleanly; a second one ends the process.
    if (cancel.IsCancellationRequested)
        return;
    e.Cancel = true;
    cancel.Cancel();
};
try
{
    return await OneShot.Run(address, rest, cancel.Token);
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    return ExitCode.Done;
}
