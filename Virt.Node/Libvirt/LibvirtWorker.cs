using System.Collections.Concurrent;

namespace Virt.Node.Libvirt;

/// <summary>
/// One thread that does every libvirt call of a host, in the order asked. libvirt calls block (a QEMU start takes
/// a while), so they never run on an actor's thread; and one queue keeps operations on a host strictly ordered.
/// </summary>
internal sealed class LibvirtWorker : IDisposable
{
    private readonly BlockingCollection<Action> _queue = new();
    private readonly Thread _thread;

    public LibvirtWorker()
    {
        _thread = new Thread(() =>
        {
            foreach (var work in _queue.GetConsumingEnumerable())
                work();
        })
        {
            IsBackground = true,
            Name = "libvirt-worker",
        };
        _thread.Start();
    }

    /// <summary>The open connection; only touched on the worker thread.</summary>
    public LibvirtConnection? Connection { get; set; }

    public Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        return done.Task;
    }

    public void Dispose()
    {
        Run(() =>
        {
            Connection?.Dispose();
            Connection = null;
            return true;
        }).Wait(TimeSpan.FromSeconds(10));
        _queue.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
    }
}
