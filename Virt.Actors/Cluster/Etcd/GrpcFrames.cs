using System.Buffers.Binary;
using Google.Protobuf;

namespace Virt.Actors.Cluster.Etcd;

/// <summary>
/// gRPC's length-prefixed messages over HTTP/2: one byte "compressed" flag (we never compress), four bytes big-endian
/// length, the protobuf bytes. Written here because no gRPC client package is available to us.
/// </summary>
internal static class GrpcFrames
{
    private const int HeaderSize = 5;

    /// <summary>Messages larger than this are refused (etcd's own default limit is 1.5 MiB per request, responses can be larger).</summary>
    private const int MaxMessageBytes = 64 << 20;

    public static byte[] Encode(IMessage message)
    {
        var size = message.CalculateSize();
        var buffer = new byte[HeaderSize + size];
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1), (uint)size);
        message.WriteTo(buffer.AsSpan(HeaderSize));
        return buffer;
    }

    /// <summary>The next message on <paramref name="stream"/>, or null at the end of the stream.</summary>
    public static async Task<T?> ReadAsync<T>(Stream stream, MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        var header = new byte[HeaderSize];
        if (!await Fill(stream, header, cancellationToken).ConfigureAwait(false))
            return null;
        if (header[0] != 0)
            throw new InvalidDataException("etcd sent a compressed gRPC message; Virt does not ask for compression");
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > MaxMessageBytes)
            throw new InvalidDataException($"etcd sent a gRPC message of {length} bytes, more than the {MaxMessageBytes} accepted");
        var body = new byte[length];
        if (!await Fill(stream, body, cancellationToken).ConfigureAwait(false))
            throw new EndOfStreamException("etcd closed the stream in the middle of a gRPC message");
        return parser.ParseFrom(body);
    }

    /// <summary>Fills <paramref name="buffer"/>; false if the stream ended before the first byte.</summary>
    private static async Task<bool> Fill(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (n == 0)
                return read == 0 ? false : throw new EndOfStreamException("etcd closed the stream in the middle of a gRPC frame");
            read += n;
        }

        return true;
    }
}
