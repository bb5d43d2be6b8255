using System.Net.WebSockets;
using System.Text;
using Virt.Shell.Parsing;

namespace Virt.Shell.Execution;

/// <summary>
/// <c>virt vm console NAME</c>: the guest's serial console through the node, over a WebSocket. Keys go to the guest
/// as typed (Ctrl-C too); Ctrl-] leaves. With standard input not a terminal, its bytes are sent, and a 0x1d byte or
/// the end of the input leaves.
/// </summary>
internal static class ConsoleCommand
{
    public const string Name = "console";
    private const byte Escape = 0x1d; // Ctrl-]

    public static async Task<int> Run(ParsedCommand parsed, ApiClient client, CancellationToken cancellationToken)
    {
        var spec = parsed.Command.Console ?? throw new UsageException($"{parsed.Title}: the node's palette gives no console path");
        var path = RequestBuilder.Fill(spec.Path, parsed.Values);
        var target = parsed.Value("NAME") ?? parsed.Title;
        var address = new UriBuilder(client.BaseAddress) { Scheme = client.BaseAddress.Scheme == "https" ? "wss" : "ws", Path = path }.Uri;
        using var socket = new ClientWebSocket();
        try
        {
            await socket.ConnectAsync(address, cancellationToken);
        }
        catch (WebSocketException)
        {
            await client.Get(path, cancellationToken); // the node's own words: not running, on another host, no such VM...
            throw new UnreachableException($"the node at {client.Address} refused the console of {target} as a WebSocket");
        }

        Console.Error.WriteLine($"virt: connected to the console of {target}; Ctrl-] leaves");
        using var leaving = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var output = Output(socket, leaving.Token);
        var input = Task.Run(() => Input(socket, leaving.Token), CancellationToken.None);
        var first = await Task.WhenAny(output, input);
        await leaving.CancelAsync();
        if (socket.State == WebSocketState.Open)
        {
            try
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "left", CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }
        }

        Console.Out.Flush();
        Console.Error.WriteLine(first == output ? $"\r\nvirt: the console of {target} was closed by the node (the guest stopped, or another console took it over)" : $"\r\nvirt: left the console of {target}");
        return ExitCode.Done;
    }

    private static async Task Output(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var stdout = Console.OpenStandardOutput();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, cancellationToken);
                if (received.MessageType == WebSocketMessageType.Close)
                    return;
                await stdout.WriteAsync(buffer.AsMemory(0, received.Count), cancellationToken);
                await stdout.FlushAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
    }

    /// <summary>Sends what is typed until Ctrl-] (or the end of a redirected input).</summary>
    private static async Task Input(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        try
        {
            if (Console.IsInputRedirected)
            {
                var stdin = Console.OpenStandardInput();
                var buffer = new byte[1024];
                while (!cancellationToken.IsCancellationRequested)
                {
                    var n = await stdin.ReadAsync(buffer, cancellationToken);
                    var end = Array.IndexOf(buffer, Escape, 0, n);
                    var count = end >= 0 ? end : n;
                    if (count > 0)
                        await socket.SendAsync(buffer.AsMemory(0, count), WebSocketMessageType.Binary, true, cancellationToken);
                    if (n == 0 || end >= 0)
                        return;
                }

                return;
            }

            Console.TreatControlCAsInput = true;
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    var key = Console.ReadKey(intercept: true);
                    if (key.KeyChar == (char)Escape || (key.Key == ConsoleKey.Oem6 && key.Modifiers.HasFlag(ConsoleModifiers.Control)))
                        return;
                    await socket.SendAsync(Bytes(key), WebSocketMessageType.Binary, true, cancellationToken);
                }
            }
            finally
            {
                Console.TreatControlCAsInput = false;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
    }

    /// <summary>What a terminal would send for the key.</summary>
    private static byte[] Bytes(ConsoleKeyInfo key) => key.Key switch
    {
        ConsoleKey.Enter => "\r"u8.ToArray(),
        ConsoleKey.Backspace => [0x7f],
        ConsoleKey.UpArrow => "\e[A"u8.ToArray(),
        ConsoleKey.DownArrow => "\e[B"u8.ToArray(),
        ConsoleKey.RightArrow => "\e[C"u8.ToArray(),
        ConsoleKey.LeftArrow => "\e[D"u8.ToArray(),
        _ => Encoding.UTF8.GetBytes(key.KeyChar.ToString()),
    };
}
