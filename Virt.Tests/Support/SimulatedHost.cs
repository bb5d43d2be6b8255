namespace Virt.Tests.Support;

/// <summary>A libvirt test-driver host file in a temporary directory; each open of its URI gets private state.</summary>
public sealed class SimulatedHost : IDisposable
{
    private readonly TempDirectory _dir = new("virt-host");

    public SimulatedHost(int cpus = 16, long memoryMiB = 65536, bool write = true)
    {
        Path = _dir.File("host.xml");
        Cpus = cpus;
        MemoryMiB = memoryMiB;
        if (write)
            Write();
    }

    public string Path { get; }

    public int Cpus { get; }

    public long MemoryMiB { get; }

    public string Uri => "test://" + Path;

    /// <summary>Writes the host file (a host whose file is missing cannot be opened: libvirt "unreachable").</summary>
    public void Write() => File.WriteAllText(Path,
        $"<node><cpu><mhz>2000</mhz><model>test</model><active>{Cpus}</active><max>{Cpus}</max><nodes>1</nodes><sockets>1</sockets><cores>{Cpus}</cores><threads>1</threads></cpu><memory>{MemoryMiB * 1024}</memory></node>");

    public void Remove() => File.Delete(Path);

    public void Dispose() => _dir.Dispose();
}
