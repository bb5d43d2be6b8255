using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Virt.Tests.Support;

/// <summary>
/// A stand-in for a host's /dev/watchdog (softdog), for a test host whose "reset" is ending its processes: a FIFO that
/// virt-node pets like the device, read by a thread here. Once the first pet arrived, <paramref name="fire"/> runs if no
/// pet comes for <paramref name="timeout"/>, unless it was disarmed (the magic 'V' before the writer closed), as the
/// kernel's watchdog behaves. The same code in virt-node writes to it as to the real device.
/// </summary>
public sealed partial class TestWatchdog : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly Action _fire;
    private readonly Stopwatch _sinceLastPet = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private bool _armed;
    private bool _disarmed;

    public TestWatchdog(string path, TimeSpan timeout, Action fire)
    {
        Path = path;
        _timeout = timeout;
        _fire = fire;
        if (mkfifo(path, 0b110_000_000) != 0)
            throw new IOException($"mkfifo {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        new Thread(Read) { IsBackground = true, Name = "test-watchdog" }.Start();
        _ = Watch();
    }

    public string Path { get; }

    /// <summary>It fired: the host was "reset".</summary>
    public bool Fired { get; private set; }

    public bool Armed
    {
        get
        {
            lock (_gate)
                return _armed && !_disarmed;
        }
    }

    private void Read()
    {
        try
        {
            // Reopened after each writer: a restarted virt-node opens the device again.
            while (!_stop.IsCancellationRequested)
            {
                using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
                int b, last = -1;
                while ((b = stream.ReadByte()) >= 0)
                {
                    lock (_gate)
                    {
                        (_armed, _disarmed) = (true, false);
                        _sinceLastPet.Restart();
                    }

                    last = b;
                }

                if (last == 'V')
                {
                    lock (_gate)
                        _disarmed = true;
                }
            }
        }
        catch (IOException)
        {
        }
    }

    private async Task Watch()
    {
        while (!_stop.IsCancellationRequested && !Fired)
        {
            await Task.Delay(100); // the device's own clock: a real watchdog counts on its own, whatever the tests do
            lock (_gate)
            {
                if (!_armed || _disarmed || _sinceLastPet.Elapsed < _timeout)
                    continue;
                Fired = true;
            }

            _fire();
        }
    }

    public void Dispose() => _stop.Cancel();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkfifo(string path, uint mode);
}
