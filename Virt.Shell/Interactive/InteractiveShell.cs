using Virt.Shell.Completion;
using Virt.Shell.Execution;
using Virt.Shell.Launch;
using Virt.Shell.Output;
using Virt.Shell.Palettes;
using Virt.Shell.Parsing;

namespace Virt.Shell.Interactive;

/// <summary>
/// <c>virt [HOST:PORT]</c> with no command: a prompt naming the cluster and the node, the node's palettes with
/// completion of commands, options and live names, history in a file, Ctrl-R search. Besides the palettes:
/// <c>help</c>, <c>connect HOST:PORT</c>, <c>exit</c>. With standard input not a terminal, it runs the lines it
/// reads and stops at the first that fails, with that line's status.
/// </summary>
internal sealed class InteractiveShell : IDisposable
{
    private static readonly string[] ShellWords = ["help", "connect", "exit"];
    private ApiClient _client;
    private Palettes.Palettes _palettes;
    private CancellationTokenSource? _running;

    private InteractiveShell(ApiClient client, Palettes.Palettes palettes) => (_client, _palettes) = (client, palettes);

    public static async Task<int> Run(string address)
    {
        var client = new ApiClient(address);
        using var shell = new InteractiveShell(client, await PaletteSource.Load(client));
        return Console.IsInputRedirected ? await shell.Script() : await shell.Interact();
    }

    private async Task<int> Interact()
    {
        var history = History.Load();
        var completer = new Completer(() => _palettes, () => _client, ShellWords);
        var editor = new LineEditor(history, (line, cursor) => completer.Complete(line, cursor).GetAwaiter().GetResult());
        Console.CancelKeyPress += OnCancel;
        Console.Out.WriteLine(Greeting());
        while (true)
        {
            var (prompt, width) = Prompt();
            Console.TreatControlCAsInput = true;
            var line = editor.ReadLine(prompt, width);
            Console.TreatControlCAsInput = false;
            if (line is null)
                return ExitCode.Done;
            if (line.Trim().Length == 0)
                continue;
            history.Add(line);
            if (await RunLine(line) is null)
                return ExitCode.Done;
        }
    }

    private async Task<int> Script()
    {
        while (await Console.In.ReadLineAsync() is { } line)
        {
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
                continue;
            var status = await RunLine(line);
            if (status is null)
                return ExitCode.Done;
            if (status != ExitCode.Done)
                return status.Value;
        }

        return ExitCode.Done;
    }

    /// <summary>Runs one line; null when it was <c>exit</c>.</summary>
    private async Task<int?> RunLine(string line)
    {
        List<string> words;
        try
        {
            words = Words.Split(line, out var open).Select(w => w.Text).ToList();
            if (open)
                return Outcome.Fail(ExitCode.Usage, "a quote is not closed");
        }
        catch (UsageException ex)
        {
            return Outcome.Fail(ExitCode.Usage, ex.Message);
        }

        switch (words[0])
        {
            case "exit" or "quit":
                return null;
            case "help":
                words = [.. words.Skip(1), "--help"];
                await Refresh();
                break;
            case "connect":
                return await Connect(words);
            case "completion":
                return Outcome.Fail(ExitCode.Usage, "completion is for the one-shot command line: run 'virt completion bash|zsh|fish' in your shell");
        }

        if (!_palettes.FromNode)
            await Refresh(); // the node may be up now

        using var running = new CancellationTokenSource();
        _running = running;
        try
        {
            return await Outcome.Of(async () =>
            {
                try
                {
                    return await OneShot.Execute(_palettes, _client, words, running.Token);
                }
                catch (UsageException)
                {
                    // The node may have gained a palette since we asked: ask again once.
                    var fresh = await PaletteSource.Load(_client, running.Token);
                    if (!fresh.FromNode || fresh.SameCommands(_palettes))
                        throw;
                    _palettes = fresh;
                    return await OneShot.Execute(_palettes, _client, words, running.Token);
                }
            });
        }
        catch (OperationCanceledException) when (running.IsCancellationRequested)
        {
            return ExitCode.Done;
        }
        finally
        {
            _running = null;
        }
    }

    /// <summary>Asks the node for its palettes again; keeps the ones in hand when it does not answer.</summary>
    private async Task Refresh()
    {
        var fresh = await PaletteSource.Load(_client);
        if (fresh.FromNode || !_palettes.FromNode)
            _palettes = fresh;
    }

    private async Task<int> Connect(List<string> words)
    {
        if (words.Count != 2 || !GlobalArguments.LooksLikeAddress(words[1]))
            return Outcome.Fail(ExitCode.Usage, "connect: give HOST:PORT of a virt-node (Tab offers the cluster's members)");
        var client = new ApiClient(words[1]);
        var palettes = await PaletteSource.Load(client);
        _client.Dispose();
        (_client, _palettes) = (client, palettes);
        Console.Out.WriteLine(Greeting());
        return palettes.FromNode ? ExitCode.Done : ExitCode.Unreachable;
    }

    private string Greeting() => _palettes.FromNode
        ? $"Connected to {_palettes.Document.Node} (cluster {_palettes.Document.Cluster}) at {_client.Address}. 'help' lists the commands, Tab completes, Ctrl-R searches the history, 'exit' leaves."
        : $"virt-node at {_client.Address} does not answer; its palettes are unknown, so this virt's own are offered (plan works offline). 'connect HOST:PORT' tries another node.";

    private (string Text, int Width) Prompt()
    {
        var label = _palettes.FromNode ? $"{_palettes.Document.Cluster}:{_palettes.Document.Node}" : $"virt (offline {_client.Address})";
        var text = label + "> ";
        return (Terminal.Colour ? $"\e[1;36m{label}\e[0m> " : text, text.Length);
    }

    /// <summary>Ctrl-C while a command runs stops that command, not the shell.</summary>
    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (_running is { } running)
        {
            e.Cancel = true;
            running.Cancel();
        }
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _client.Dispose();
    }
}
