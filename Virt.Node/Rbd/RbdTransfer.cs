using System.Security.Cryptography;

namespace Virt.Node.Rbd;

/// <summary>How far an export or import is.</summary>
internal readonly record struct RbdTransferProgress(long BytesDone, long BytesTotal);

/// <summary>What an export wrote or an import read: the byte count and the SHA-256 (lower-case hex) of exactly those bytes.</summary>
internal sealed record RbdTransferResult(long Bytes, string Sha256);

/// <summary>
/// Streams a snapshot to a raw image file (the format of <c>rbd export</c>, so the rbd CLI can read it too) and a
/// file back into a new image, chunk by chunk, with progress and a SHA-256 of the content. Zero chunks are skipped on
/// both sides: the file is sparse and the imported image thin. Long-running: call on a thread of its own.
/// </summary>
internal static class RbdTransfer
{
    /// <summary>One object of a default image: librbd reads it in one request.</summary>
    public const int DefaultChunkBytes = 4 << 20;

    /// <summary>
    /// Writes snapshot <paramref name="snapshot"/> of <paramref name="image"/> to <paramref name="path"/>, which must not
    /// exist. The data goes to <c>path.partial</c> first and is renamed once complete and synced, so a file at
    /// <paramref name="path"/> is always whole; a failed or cancelled export leaves nothing behind.
    /// </summary>
    public static RbdTransferResult Export(RbdPool pool, string image, string snapshot, string path,
        IProgress<RbdTransferProgress>? progress = null, CancellationToken cancel = default, int chunkBytes = DefaultChunkBytes)
    {
        var spec = $"{pool.Name}/{image}@{snapshot}";
        if (File.Exists(path))
            throw new RbdException(CephErrno.EEXIST, "export", spec, $"export {spec}: {path} already exists; choose another file, or remove it first");
        using var source = pool.OpenImage(image, snapshot);
        var size = source.SizeBytes();
        var partial = path + ".partial";
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                var buffer = GC.AllocateUninitializedArray<byte>(chunkBytes, pinned: true);
                for (long offset = 0; offset < size;)
                {
                    cancel.ThrowIfCancellationRequested();
                    var want = (int)Math.Min(chunkBytes, size - offset);
                    var chunk = buffer.AsSpan(0, want);
                    var read = source.Read(offset, chunk, sequential: true);
                    if (read != want)
                        throw new RbdException(CephErrno.EIO, "export", spec, $"export {spec}: librbd returned {read} of {want} bytes at {offset}; the snapshot may be damaged");
                    hash.AppendData(chunk);
                    if (chunk.ContainsAnyExcept((byte)0))
                        file.Write(chunk);
                    else
                        file.Seek(want, SeekOrigin.Current); // a hole: the file stays sparse
                    offset += want;
                    progress?.Report(new RbdTransferProgress(offset, size));
                }

                file.SetLength(size);
                file.Flush(flushToDisk: true);
            }

            File.Move(partial, path, overwrite: false);
            return new RbdTransferResult(size, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    /// <summary>
    /// Creates image <paramref name="image"/> (it must not exist) with the file's size and content. When
    /// <paramref name="expectedSha256"/> is given and the file's content does not match it, or anything fails, the
    /// new image is removed again: an import either completes or leaves nothing.
    /// </summary>
    public static RbdTransferResult Import(RbdPool pool, string path, string image, RbdFeatures? features = null, string? expectedSha256 = null,
        IProgress<RbdTransferProgress>? progress = null, CancellationToken cancel = default, int chunkBytes = DefaultChunkBytes)
    {
        var spec = $"{pool.Name}/{image}";
        if (!File.Exists(path))
            throw new RbdException(CephErrno.ENOENT, "import", spec, $"import into {spec}: {path} does not exist; give the path of an exported image file");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        var size = file.Length;
        if (size == 0)
            throw new RbdException(CephErrno.EINVAL, "import", spec, $"import into {spec}: {path} is empty; an image file holds at least one byte");
        pool.CreateImage(image, size, features);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var target = pool.OpenImage(image))
            {
                var buffer = GC.AllocateUninitializedArray<byte>(chunkBytes, pinned: true);
                for (long offset = 0; offset < size;)
                {
                    cancel.ThrowIfCancellationRequested();
                    var chunk = buffer.AsSpan(0, (int)Math.Min(chunkBytes, size - offset));
                    file.ReadExactly(chunk);
                    hash.AppendData(chunk);
                    if (chunk.ContainsAnyExcept((byte)0))
                        target.Write(offset, chunk); // zero chunks stay unallocated: a new image reads as zeros
                    offset += chunk.Length;
                    progress?.Report(new RbdTransferProgress(offset, size));
                }

                target.Flush();
            }

            var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (expectedSha256 is not null && !string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase))
                throw new RbdException(CephErrno.EIO, "import", spec,
                    $"import into {spec}: {path} has SHA-256 {sha}, not the expected {expectedSha256.ToLowerInvariant()}; the file is damaged or not the one exported: import another copy");
            return new RbdTransferResult(size, sha);
        }
        catch (Exception failure)
        {
            try
            {
                pool.RemoveImage(image);
            }
            catch (RbdException cleanup)
            {
                throw new RbdException(cleanup.Errno, "import", spec,
                    $"import into {spec} failed ({failure.Message}) and the partial image could not be removed ({cleanup.Message}): remove {spec} once the cause is fixed", failure);
            }

            throw;
        }
    }
}
