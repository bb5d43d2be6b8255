using System.Net.WebSockets;
using Akka.Actor;
using Microsoft.AspNetCore.Http;
using Virt.Actors.Cluster;

namespace Virt.Node.Api;

/// <summary>
/// A console asked of a node the VM does not run on: that node carries it to the API of the node that runs it (whose
/// address that node gives, see <see cref="NodeApiAddress"/>), so <c>virt vm console</c> works against any node.
/// Messages pass through as they are; when either side closes, the other is closed. A request that is itself
/// carried (<see cref="Header"/>) is never carried further: the VM moved while the console was being connected.
/// </summary>
internal static class ConsoleProxy
{
    /// <summary>Set by the carrying node on its request to the hosting node: the carrying node's name.</summary>
    public const string Header = "Virt-Console-Via";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    public static async Task<IResult> Carry(string name, string node, HttpContext context, ApiContext api)
    {
        var address = await NodeApiAddress.Of(api.System, node, api.Timeout);
        if (address is null)
            return Results.Problem(statusCode: 502, title: "console host unreachable",
                detail: $"VM {name} runs on {node}, which serves its console, and {node} did not say where its API is (it is not up, or not answering); try again, or run 'virt vm console {name}' against {node} itself");
        var path = $"/v1/vms/{Uri.EscapeDataString(name)}/console";
        if (!context.WebSockets.IsWebSocketRequest)
            return await Relay(address, path, node, api);

        var upstream = new ClientWebSocket();
        upstream.Options.SetRequestHeader(Header, api.NodeName);
        try
        {
            using var connecting = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            connecting.CancelAfter(ConnectTimeout);
            await upstream.ConnectAsync(new Uri($"ws://{address}{path}"), connecting.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            upstream.Dispose();
            return await Relay(address, path, node, api); // the hosting node's own words: not running any more, no such VM...
        }

        using (upstream)
        using (var client = await context.WebSockets.AcceptWebSocketAsync())
        {
            using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            var down = Pump(upstream, client, ending.Token);
            var up = Pump(client, upstream, ending.Token);
            var first = await Task.WhenAny(down, up);
            var other = first == down ? up : down;

            // The side that ended has closed: close the other, wait (briefly) for its answer, then the first's output.
            await CloseOutput(first == down ? client : upstream);
            await Task.WhenAny(other, Task.Delay(CloseTimeout, CancellationToken.None));
            await CloseOutput(first == down ? upstream : client);
            await ending.CancelAsync();
            await Task.WhenAll(down.ContinueWith(_ => { }, TaskScheduler.Default), up.ContinueWith(_ => { }, TaskScheduler.Default));
        }

        return Results.Empty;
    }

    /// <summary>Messages from <paramref name="from"/> to <paramref name="to"/> until <paramref name="from"/> closes.</summary>
    private static async Task Pump(WebSocket from, WebSocket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var received = await from.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
                return;
            await to.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, cancellationToken);
        }
    }

    private static async Task CloseOutput(WebSocket socket)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            return;
        try
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "console closed", timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the other side is gone already: nothing left to close
        }
    }

    /// <summary>The hosting node's answer to a plain GET of the console, passed on as it is (or a 502 when it cannot be reached).</summary>
    private static async Task<IResult> Relay(string address, string path, string node, ApiContext api)
    {
        using var http = new HttpClient { Timeout = api.Timeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{address}{path}");
        request.Headers.Add(Header, api.NodeName);
        try
        {
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            return Results.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/problem+json", statusCode: (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return Results.Problem(statusCode: 502, title: "console host unreachable",
                detail: $"the console is served by {node}, whose API at {address} could not be reached from {api.NodeName}: {ex.Message}; check that {api.NodeName} can reach it (virt.node.address on {node})");
        }
    }
}
