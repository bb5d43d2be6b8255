namespace Virt.Node.Rbd;

/// <summary>
/// Who holds the lock of an image, as its header object's cls_lock says: an advisory lock, or the exclusive-lock
/// feature's lock that QEMU takes on its first write (cookie "auto N", tag "internal").
/// </summary>
internal sealed record ImageLockers(bool Exclusive, string Tag, IReadOnlyList<ImageLocker> Holders)
{
    public bool IsLocked => Holders.Count > 0;

    /// <summary>"client.4123 at 127.0.0.1:0/12345" (and more holders for a shared lock), for messages.</summary>
    public string Describe() => Holders.Count == 0 ? "nobody" : string.Join(", ", Holders.Select(h => $"{h.Client} at {h.Address}"));
}

/// <param name="Client">The holder's entity name, <c>client.4123</c> (its <see cref="RadosCluster.ClientName"/>).</param>
/// <param name="Cookie">The cookie the holder locked with; needed, with the client, to break the lock.</param>
/// <param name="Address">The holder's address, <c>127.0.0.1:0/12345</c>: what to blocklist to fence it.</param>
internal sealed record ImageLocker(string Client, string Cookie, string Address);
