using System.Net;
using System.Net.Sockets;

namespace TestSupport;

/// <summary>Loopback ports for servers a test starts, so tests running in parallel never collide.</summary>
public static class Loopback
{
    /// <summary>
    /// A port nothing listens on right now (the operating system's choice). It is free, not reserved: start the
    /// server on it soon.
    /// </summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Returns once something accepts connections on the port (a server that daemonizes returns before it listens),
    /// or throws after 30 s.
    /// </summary>
    public static async Task WaitListeningAsync(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var tcp = new TcpClient();
            try
            {
                await tcp.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
