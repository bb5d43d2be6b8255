using Virt.Actors.Cluster.Coordination;

namespace Virt.Actors.Cluster.Etcd;

/// <summary>gRPC status codes etcd answers with (the subset Virt tells apart).</summary>
internal enum GrpcCode
{
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    FailedPrecondition = 9,
    OutOfRange = 11,
    Unavailable = 14,
}

/// <summary>etcd answered with an error status that is not about availability (a bad request, a missing lease...).</summary>
public class EtcdException(int code, string message) : Exception(message)
{
    /// <summary>The gRPC status code etcd answered with.</summary>
    public int Code { get; } = code;

    /// <summary>Turns a non-zero grpc-status and grpc-message from <paramref name="endpoint"/> into the exception that says what happened.</summary>
    internal static Exception FromStatus(int code, string message, Uri endpoint, string method)
    {
        var where = $"etcd {endpoint.Authority} {Method(method)}";
        return (GrpcCode)code switch
        {
            // "no leader": refused before anything was done, because of the "hasleader" metadata every call carries.
            _ when message.Contains("no leader", StringComparison.Ordinal) || message.Contains("not leader", StringComparison.Ordinal) =>
                new EtcdNotLeaderException($"{where}: {message} (this member has lost its quorum or is electing a leader); nothing was done"),
            _ when message.Contains("request timed out", StringComparison.Ordinal) =>
                new EtcdDeadlineException($"{where}: {message}; it is unknown whether the request was applied", sent: true),
            GrpcCode.DeadlineExceeded => new EtcdDeadlineException($"{where}: deadline exceeded ({message})", sent: true),
            GrpcCode.Unavailable => new EtcdUnavailableException($"{where}: unavailable ({message})", sent: true),
            GrpcCode.OutOfRange when message.Contains("compacted", StringComparison.Ordinal) =>
                new EtcdCompactedException($"{where}: {message}"),
            _ => new EtcdException(code, $"{where}: {message} (gRPC status {code})"),
        };
    }

    internal static string Method(string path) => path[(path.LastIndexOf('/') + 1)..];
}

/// <summary>No etcd member could be reached, or the one asked could not serve. <see cref="Sent"/>: the request may have been applied.</summary>
public class EtcdUnavailableException(string message, bool sent, Exception? inner = null) : CoordinationUnavailableException(message, inner)
{
    public bool Sent { get; } = sent;
}

/// <summary>The call did not finish within its deadline; if it was a write, it may or may not have been applied.</summary>
public sealed class EtcdDeadlineException(string message, bool sent, Exception? inner = null) : EtcdUnavailableException(message, sent, inner);

/// <summary>
/// A member had no leader (quorum lost, or an election under way) and refused: that refusal did nothing. When other
/// members tried for the same call only timed out, <see cref="EtcdUnavailableException.Sent"/> says so.
/// </summary>
public sealed class EtcdNotLeaderException(string message, bool sent = false) : EtcdUnavailableException(message, sent);

/// <summary>A read at a revision that compaction has already discarded.</summary>
public sealed class EtcdCompactedException(string message) : EtcdException((int)GrpcCode.OutOfRange, message);
