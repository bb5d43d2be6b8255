using System.Net.WebSockets;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Virt.Actors.Vm;
using Virt.Node.Agent;
using Virt.Node.Libvirt;

namespace Virt.Node.Api;

/// <summary>
/// <c>GET /v1/vms/NAME/console</c> as a WebSocket: the guest's serial console (virDomainOpenConsole and a libvirt
/// stream), bytes both ways in binary messages, on its own libvirt connection so a console never holds up the
/// agent's work. Served by the node the VM runs on (the stream is that host's libvirt); another node carries the
/// WebSocket to that node's API (<see cref="ConsoleProxy"/>). The session ends when either side closes, or when the
/// console does (the guest stopped).
/// </summary>
internal static class ConsoleEndpoint
{
    public static void Map(IEndpointRouteBuilder app) => app.MapGet("/v1/vms/{name}/console", Console);

    private static async Task<IResult> Console(string name, HttpContext context, ApiContext api, IOptions<LibvirtOptions> libvirt)
    {
        if (!VmSpecValidator.IsValidName(name))
            return Problems.NotFound(name);
        if (await api.Ask<object>(api.Vms, new VmProtocol.Get(name)) is not VmView view)
            return Problems.NotFound(name);
        if (view.State != VmPhase.Running || view.Node is not { } node)
            return Problems.Conflict(name, view.State, $"it is {ApiJson.Name(view.State)}; its console needs it running");
        if (node != api.NodeName)
        {
            return context.Request.Headers.ContainsKey(ConsoleProxy.Header)
                ? Problems.Conflict(name, view.State, $"it moved to {node} while its console was being connected; try again")
                : await ConsoleProxy.Carry(name, node, context, api);
        }

        if (!context.WebSockets.IsWebSocketRequest)
            return Results.Problem(statusCode: 400, title: "websocket expected", detail: "the console is a WebSocket: connect with 'virt vm console NAME' (or any WebSocket client)");

        LibvirtConnection connection;
        ConsoleStream console;
        try
        {
            connection = await Task.Run(() => LibvirtConnection.Open(libvirt.Value.ResolvedUri));
            try
            {
                console = await Task.Run(() => connection.OpenConsole(name));
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }
        catch (LibvirtException ex)
        {
            return Problems.Conflict(name, view.State, $"its console could not be opened: {ex.LibvirtMessage}");
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var fromGuest = Task.Factory.StartNew(() => ToClient(console, socket, ending.Token), TaskCreationOptions.LongRunning).Unwrap();
        var toGuest = ToGuest(socket, console, ending.Token);
        await Task.WhenAny(fromGuest, toGuest);
        await ending.CancelAsync();
        console.Abort();
        await Task.WhenAll(fromGuest.ContinueWith(_ => { }), toGuest.ContinueWith(_ => { }));
        console.Dispose();
        connection.Dispose();
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "console closed", CancellationToken.None);
        return Results.Empty;
    }

    /// <summary>The guest's output: blocking reads on a thread of its own, each sent as it comes.</summary>
    private static async Task ToClient(ConsoleStream console, WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (!cancellationToken.IsCancellationRequested)
        {
            var n = console.Read(buffer);
            if (n == 0)
                return;
            await socket.SendAsync(buffer.AsMemory(0, n), WebSocketMessageType.Binary, true, cancellationToken);
        }
    }

    private static async Task ToGuest(WebSocket socket, ConsoleStream console, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (!cancellationToken.IsCancellationRequested)
        {
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
                return;
            var count = received.Count;
            await Task.Run(() => console.Write(buffer.AsSpan(0, count)), cancellationToken);
        }
    }
}
