namespace Virt.Node.Hosting;

/// <summary>
/// One daemon per data directory: an exclusive lock on <c>virt-node.lock</c> in it, held while the process lives
/// (the kernel drops it when the process ends, however it ends). The holder writes its process id next to it, so a
/// second daemon can say who holds it.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    private readonly FileStream _lock;

    private DataDirectoryLock(FileStream held) => _lock = held;

    public static DataDirectoryLock Acquire(string dataDir)
    {
        try
        {
            Directory.CreateDirectory(dataDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"cannot create the data directory {dataDir}: {ex.Message}; check virt.data-dir and its permissions");
        }

        var path = Path.Combine(dataDir, "virt-node.lock");
        var pidFile = Path.Combine(dataDir, "virt-node.pid");
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) on Linux.
            var held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            File.WriteAllText(pidFile, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return new DataDirectoryLock(held);
        }
        catch (IOException)
        {
            var holder = File.Exists(pidFile) ? File.ReadAllText(pidFile).Trim() : "unknown";
            throw new StartupException(
                $"the data directory {dataDir} is in use by another virt-node (process {holder}); stop that one first, or give this one its own virt.data-dir");
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new StartupException($"cannot lock the data directory {dataDir}: {ex.Message}; check its permissions");
        }
    }

    public void Dispose() => _lock.Dispose();
}

/// <summary>virt-node cannot start; the message says why and what to change.</summary>
internal sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
