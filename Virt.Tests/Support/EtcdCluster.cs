using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using dotnet_etcd;

namespace Virt.Tests.Support;

/// <summary>
/// A real etcd cluster (Debian's etcd-server) on loopback: members on free ports with their own temporary
/// directories, fast election settings for tests. A member can be killed, paused (SIGSTOP), resumed and restarted
/// on its data. Dispose kills every member and removes the directories.
/// </summary>
public sealed class EtcdCluster : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("etcd");
    private readonly int _size;
    private Member[] _members = [];
    private string _initialCluster = "";
    private readonly string _token = "virt-test-" + Guid.NewGuid().ToString("N")[..8];

    private readonly TestCertificates? _tls;
    private readonly string _address;

    private EtcdCluster(int size, bool tls, string address)
    {
        _tls = tls ? new TestCertificates(_dir.Path) : null;
        _size = size;
        _address = address;
        PlanPorts();
    }

    private void PlanPorts()
    {
        var scheme = _tls is null ? "http" : "https";
        _members = Enumerable.Range(0, _size).Select(i => new Member($"m{i}", scheme, _address, FreePort(_address), FreePort(_address), System.IO.Path.Combine(_dir.Path, $"m{i}"))).ToArray();
        _initialCluster = string.Join(',', _members.Select(m => $"{m.Name}=http://{_address}:{m.PeerPort}"));
    }

    /// <summary>Client URLs, in member order.</summary>
    public IReadOnlyList<string> Endpoints => _members.Select(m => m.ClientUrl).ToList();

    public int Size => _members.Length;

    public string Endpoint(int member) => _members[member].ClientUrl;

    /// <summary>With <see cref="Tls"/>: clients must connect over TLS and present a certificate signed by its CA.</summary>
    public TestCertificates? Tls => _tls;

    /// <summary>The owner a key names, read from the members given (default: all), or null when there is no such key.</summary>
    public async Task<string?> OwnerAsync(string key, params int[] members)
    {
        using var client = Client(members);
        var response = await client.GetAsync(key, cancellationToken: new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        return response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8();
    }

    /// <summary>A dotnet-etcd client for the test's own look at the data (with the client certificate under TLS).</summary>
    public EtcdClient Client(params int[] members)
    {
        var urls = string.Join(',', (members.Length == 0 ? Enumerable.Range(0, Size) : members).Select(Endpoint));
        if (_tls is null)
            return new EtcdClient(urls);
        var ca = X509CertificateLoader.LoadCertificateFromFile(_tls.CaFile);
        return new EtcdClient(urls, ssl =>
        {
            ssl.ClientCertificates = [X509Certificate2.CreateFromPemFile(_tls.ClientCertFile, _tls.ClientKeyFile)];
            ssl.RemoteCertificateValidationCallback = (_, cert, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                return cert is not null && chain.Build(X509CertificateLoader.LoadCertificate(cert.GetRawCertData()));
            };
        });
    }

    /// <param name="address">The address every member binds (client and peer ports): another than loopback for clients in other network namespaces.</param>
    public static async Task<EtcdCluster> StartAsync(int size = 3, bool tls = false, string address = "127.0.0.1")
    {
        var cluster = Create(size, tls, address);
        try
        {
            await cluster.StartAllAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Ports and directories, nothing running yet: for a test that needs etcd's endpoints before etcd is up.</summary>
    public static EtcdCluster Create(int size = 3, bool tls = false, string address = "127.0.0.1")
    {
        if (!File.Exists("/usr/bin/etcd"))
            throw new InvalidOperationException("etcd is not installed; scripts/test installs etcd-server (apt-get install -y etcd-server)");
        return new EtcdCluster(size, tls, address);
    }

    /// <summary>Starts every member. Should a port have been taken meanwhile by another program, all start again on new ports.</summary>
    public async Task StartAllAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            foreach (var m in _members)
                Launch(m);
            try
            {
                await Task.WhenAll(_members.Select(m => WaitHealthy(m, TimeSpan.FromSeconds(30))));
                return;
            }
            catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("address already in use", StringComparison.Ordinal))
            {
                foreach (var m in _members)
                {
                    m.Process?.Dispose();
                    if (Directory.Exists(m.DataDir))
                        Directory.Delete(m.DataDir, recursive: true);
                }

                PlanPorts();
            }
        }
    }

    /// <summary>Whether the member's process runs (it was not killed and has not exited).</summary>
    public bool IsRunning(int member) => _members[member].Process is { HasExited: false };

    /// <summary>SIGKILL: the member dies without a word; its data stays for <see cref="RestartAsync"/>.</summary>
    public void Kill(int member)
    {
        _members[member].Process?.Dispose();
        _members[member].Process = null;
    }

    /// <summary>SIGSTOP: the member keeps its sockets open but answers nothing, like a hung host.</summary>
    public void Pause(int member) => _members[member].Process!.Signal(Posix.SigStop);

    public void Resume(int member) => _members[member].Process!.Signal(Posix.SigCont);

    /// <summary>Until the member says it is healthy: it has a leader and serves a linearizable read (after a resume, say).</summary>
    public Task WaitHealthyAsync(int member) => WaitHealthy(_members[member], TimeSpan.FromSeconds(30));

    /// <summary>Starts a killed member again on its data directory and waits until the cluster has it back.</summary>
    public async Task RestartAsync(int member)
    {
        Kill(member);
        Launch(_members[member]);
        await WaitHealthy(_members[member], TimeSpan.FromSeconds(30));
    }

    private void Launch(Member m)
    {
        Directory.CreateDirectory(m.DataDir);
        m.Process = ChildProcess.Start("/usr/bin/etcd",
        [
            "--name", m.Name,
            "--data-dir", m.DataDir,
            "--listen-client-urls", m.ClientUrl,
            "--advertise-client-urls", m.ClientUrl,
            "--listen-peer-urls", $"http://{_address}:{m.PeerPort}",
            "--initial-advertise-peer-urls", $"http://{_address}:{m.PeerPort}",
            "--initial-cluster", _initialCluster,
            "--initial-cluster-token", _token,
            "--initial-cluster-state", "new",
            "--heartbeat-interval", "100",
            "--election-timeout", "1000",
            "--pre-vote",
            .. (_tls is null ? [] : new[] { "--cert-file", _tls.ServerCertFile, "--key-file", _tls.ServerKeyFile, "--trusted-ca-file", _tls.CaFile, "--client-cert-auth" }),
        ]);
    }

    /// <summary>Until the member says it is healthy (it has a leader and can serve a linearizable read).</summary>
    private async Task WaitHealthy(Member m, TimeSpan within)
    {
        using var http = HealthClient();
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                var body = await http.GetStringAsync(m.ClientUrl + "/health");
                if (body.Contains("\"health\":\"true\"", StringComparison.Ordinal))
                    return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // not up yet
            }

            if (m.Process is null || m.Process.HasExited)
                throw new InvalidOperationException($"etcd member {m.Name} exited: {Tail(m.Process?.Stderr ?? "")}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"etcd member {m.Name} not healthy within {within}: {Tail(m.Process.Stderr)}");
            await Task.Delay(50);
        }
    }

    private static string Tail(string log) => log[^Math.Min(1500, log.Length)..];

    private HttpClient HealthClient()
    {
        var handler = new SocketsHttpHandler();
        if (_tls is not null)
        {
            handler.SslOptions.ClientCertificates = [System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(_tls.ClientCertFile, _tls.ClientKeyFile)];
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true; // only asking whether it is up
        }

        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
    }

    /// <summary>Below the kernel's ephemeral range (32768 and up), so no outgoing connection takes it before etcd binds it.</summary>
    private static int _lastPort = 20_000 + Random.Shared.Next(0, 6_000);

    private static int FreePort(string address)
    {
        while (true)
        {
            var port = Interlocked.Increment(ref _lastPort);
            if (port >= 32_000)
            {
                Interlocked.CompareExchange(ref _lastPort, 20_000, port);
                continue;
            }

            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse(address), port));
                return port;
            }
            catch (SocketException)
            {
                // taken: try the next one
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var m in _members)
        {
            if (m.Process is { HasExited: false } p)
                p.Signal(Posix.SigCont); // a paused member must not outlive the kill
            m.Process?.Dispose();
            m.Process = null;
        }

        _dir.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class Member(string name, string scheme, string address, int clientPort, int peerPort, string dataDir)
    {
        public string Name { get; } = name;

        public int PeerPort { get; } = peerPort;

        public string DataDir { get; } = dataDir;

        public string ClientUrl { get; } = $"{scheme}://{address}:{clientPort}";

        public ChildProcess? Process { get; set; }
    }
}
