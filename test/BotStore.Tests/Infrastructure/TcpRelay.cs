using System.Net;
using System.Net.Sockets;

namespace BotStore.Tests.Infrastructure;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a real server, to take the server away and give it back: <see cref="Stop"/>
/// cuts every open connection and refuses new ones (what a restarting database looks like to a client),
/// <see cref="Start"/> listens again on the same port.
/// </summary>
public sealed class TcpRelay(string targetHost, int targetPort) : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;

    /// <summary>The port clients connect to.</summary>
    public int Port { get; private set; }

    /// <summary>Starts relaying (on a new free port the first time, the same port afterwards).</summary>
    public void Start()
    {
        lock (_gate)
        {
            _listener = new TcpListener(IPAddress.Loopback, Port);
            _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = AcceptAsync(_listener);
        }
    }

    /// <summary>Refuses new connections and cuts the open ones.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
            foreach (var client in _open)
                client.Dispose();
            _open.Clear();
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            _ = RelayAsync(inbound);
        }
    }

    private async Task RelayAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        try
        {
            await outbound.ConnectAsync(targetHost, targetPort);
            lock (_gate)
                _open.AddRange([inbound, outbound]);
            using var cts = new CancellationTokenSource();
            var up = inbound.GetStream().CopyToAsync(outbound.GetStream(), cts.Token);
            var down = outbound.GetStream().CopyToAsync(inbound.GetStream(), cts.Token);
            await Task.WhenAny(up, down);
            await cts.CancelAsync();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // a side went away: close both
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
        }
    }
}
