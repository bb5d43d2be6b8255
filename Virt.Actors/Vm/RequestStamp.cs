namespace Virt.Actors.Vm;

/// <summary>
/// A client's Idempotency-Key and a fingerprint of the request it came with (method, path and body, hashed): the same
/// key with the same request is a retry; with another request it is a mistake, refused.
/// </summary>
public sealed record RequestStamp(string Key, string Fingerprint);
