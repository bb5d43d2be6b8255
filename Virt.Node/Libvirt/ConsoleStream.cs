namespace Virt.Node.Libvirt;

/// <summary>
/// A domain's serial console: a libvirt stream read on one thread and written on another (libvirt allows both at
/// once on a blocking stream). Reading blocks until the guest writes; 0 means the console ended (the domain stopped,
/// or another session took it over).
/// </summary>
internal sealed unsafe class ConsoleStream : IDisposable
{
    private nint _stream;

    public ConsoleStream(nint stream) => _stream = stream;

    public int Read(Span<byte> buffer)
    {
        fixed (byte* data = buffer)
        {
            var n = LibvirtNative.virStreamRecv(_stream, data, (nuint)buffer.Length);
            return n >= 0 ? n : throw LibvirtException.Last("virStreamRecv");
        }
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* data = bytes)
        {
            var sent = 0;
            while (sent < bytes.Length)
            {
                var n = LibvirtNative.virStreamSend(_stream, data + sent, (nuint)(bytes.Length - sent));
                if (n < 0)
                    throw LibvirtException.Last("virStreamSend");
                sent += n;
            }
        }
    }

    /// <summary>Ends the session; a read blocked in another thread returns. Dispose only after that read has ended.</summary>
    public void Abort()
    {
        if (_stream != 0)
            LibvirtNative.virStreamAbort(_stream);
    }

    public void Dispose()
    {
        var stream = Interlocked.Exchange(ref _stream, 0);
        if (stream != 0)
            LibvirtNative.virStreamFree(stream);
    }
}
