using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Virt.Node.Rbd;
using Virt.Tests.Support;

namespace Virt.Tests.Rbd;

/// <summary>
/// Export of a snapshot to a file and import of that file into a new image, on a real Ceph: the content is compared
/// with what the rbd CLI exports, and the checksum with sha256sum's.
/// </summary>
public sealed class TransferTests(RbdTestPool pool) : IClassFixture<RbdTestPool>, IDisposable
{
    private const long MiB = 1 << 20;
    private readonly TempDirectory _dir = new("virt-rbd-export");

    public void Dispose() => _dir.Dispose();

    /// <summary>An image of an odd size: random data in some places, zeros (never written) elsewhere, then a snapshot "s" and later writes that must not be exported.</summary>
    private (string Name, long Size) ImageWithSnapshot(string prefix)
    {
        var name = pool.NewImageName(prefix);
        var size = 13 * MiB + 12345; // not a multiple of a chunk, nor of 512
        pool.Pool.CreateImage(name, size);
        using var image = pool.Pool.OpenImage(name);
        foreach (var offset in new[] { 0, 5 * MiB - 100, size - 70_000 })
        {
            var data = new byte[70_000];
            Random.Shared.NextBytes(data);
            image.Write(offset, data);
        }

        image.CreateSnapshot("s");
        image.Write(MiB, Enumerable.Repeat((byte)0xEE, 4096).ToArray());
        return (name, size);
    }

    private async Task<byte[]> CliExport(string spec)
    {
        var file = _dir.File($"cli-{Guid.NewGuid():N}");
        await pool.Ceph.Rbd("export", spec, file);
        return await File.ReadAllBytesAsync(file);
    }

    private static async Task<string> Sha256Sum(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("sha256sum", [path]) { RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Split(' ')[0];
    }

    [Fact]
    public async Task Export_of_a_snapshot_then_import_gives_an_image_with_identical_content()
    {
        var (name, size) = ImageWithSnapshot("roundtrip");
        var path = _dir.File("disk.raw");
        var progress = new Recorded();

        var exported = RbdTransfer.Export(pool.Pool, name, "s", path, progress, chunkBytes: 1 << 20);

        var expected = await CliExport($"{pool.Name}/{name}@s");
        Assert.Equal(size, exported.Bytes);
        Assert.Equal(expected, await File.ReadAllBytesAsync(path));
        Assert.Equal(await Sha256Sum(path), exported.Sha256);
        Assert.False(File.Exists(path + ".partial"));
        Assert.Equal(size, progress.Reports[^1].BytesDone);
        Assert.All(progress.Reports, r => Assert.Equal(size, r.BytesTotal));
        Assert.Equal(progress.Reports.Select(r => r.BytesDone).Order(), progress.Reports.Select(r => r.BytesDone));
        Assert.Equal(14, progress.Reports.Count); // one per 1 MiB chunk

        var copy = pool.NewImageName("imported");
        var imported = RbdTransfer.Import(pool.Pool, path, copy, expectedSha256: exported.Sha256);
        Assert.Equal(exported, imported);
        Assert.Equal(expected, await CliExport($"{pool.Name}/{copy}"));
        Assert.Equal(size, JsonDocument.Parse(await pool.Ceph.Rbd("info", $"{pool.Name}/{copy}", "--format", "json")).RootElement.GetProperty("size").GetInt64());
    }

    [Fact]
    public async Task Zero_regions_stay_holes_in_the_file_and_unallocated_in_the_imported_image()
    {
        var name = pool.NewImageName("sparse");
        pool.Pool.CreateImage(name, 64 * MiB);
        using (var image = pool.Pool.OpenImage(name))
        {
            image.Write(40 * MiB, Enumerable.Repeat((byte)7, 4096).ToArray());
            image.CreateSnapshot("s");
        }

        var path = _dir.File("sparse.raw");
        RbdTransfer.Export(pool.Pool, name, "s", path);
        Assert.Equal(64 * MiB, new FileInfo(path).Length);
        var blocks = long.Parse((await RunStat(path)).Trim());
        Assert.True(blocks * 512 <= 8 * MiB, $"the export should be sparse, but {blocks} blocks of 512 bytes are allocated");

        var copy = pool.NewImageName("sparse-copy");
        RbdTransfer.Import(pool.Pool, path, copy);
        var du = JsonDocument.Parse(await pool.Ceph.Rbd("du", $"{pool.Name}/{copy}", "--format", "json")).RootElement.GetProperty("images")[0];
        Assert.Equal(4 * MiB, du.GetProperty("used_size").GetInt64()); // one 4 MiB object of sixteen
    }

    [Fact]
    public async Task An_import_whose_checksum_does_not_match_leaves_no_image_and_says_the_file_is_damaged()
    {
        var (name, _) = ImageWithSnapshot("corrupt");
        var path = _dir.File("corrupt.raw");
        var exported = RbdTransfer.Export(pool.Pool, name, "s", path);
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.Position = 10;
            file.WriteByte(0x42);
        }

        var copy = pool.NewImageName("corrupt-copy");
        var error = Assert.ThrowsAny<RbdException>(() => RbdTransfer.Import(pool.Pool, path, copy, expectedSha256: exported.Sha256));
        Assert.Contains($"import into {pool.Name}/{copy}: {path} has SHA-256", error.Message);
        Assert.Contains($"not the expected {exported.Sha256}; the file is damaged", error.Message);
        Assert.DoesNotContain(copy, JsonDocument.Parse(await pool.Ceph.Rbd("ls", pool.Name, "--format", "json")).RootElement.EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task A_cancelled_export_leaves_no_file_and_a_cancelled_import_no_image()
    {
        var (name, _) = ImageWithSnapshot("cancel");
        var path = _dir.File("cancel.raw");
        using (var cancel = new CancellationTokenSource())
        {
            Assert.ThrowsAny<OperationCanceledException>(() =>
                RbdTransfer.Export(pool.Pool, name, "s", path, new Recorded(_ => cancel.Cancel()), cancel.Token, chunkBytes: 1 << 20));
        }

        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));

        RbdTransfer.Export(pool.Pool, name, "s", path);
        var copy = pool.NewImageName("cancel-copy");
        using (var cancel = new CancellationTokenSource())
        {
            Assert.ThrowsAny<OperationCanceledException>(() =>
                RbdTransfer.Import(pool.Pool, path, copy, progress: new Recorded(_ => cancel.Cancel()), cancel: cancel.Token, chunkBytes: 1 << 20));
        }

        Assert.DoesNotContain(copy, JsonDocument.Parse(await pool.Ceph.Rbd("ls", pool.Name, "--format", "json")).RootElement.EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Export_never_overwrites_a_file_and_import_never_an_image()
    {
        var (name, _) = ImageWithSnapshot("nooverwrite");
        var path = _dir.File("existing.raw");
        await File.WriteAllTextAsync(path, "keep me");
        var export = Assert.ThrowsAny<RbdException>(() => RbdTransfer.Export(pool.Pool, name, "s", path));
        Assert.Contains($"{path} already exists; choose another file", export.Message);
        Assert.Equal("keep me", await File.ReadAllTextAsync(path));

        var other = _dir.File("other.raw");
        RbdTransfer.Export(pool.Pool, name, "s", other);
        var import = Assert.ThrowsAny<RbdException>(() => RbdTransfer.Import(pool.Pool, other, name));
        Assert.Equal(CephErrno.EEXIST, import.Errno);
        Assert.Contains($"create image {pool.Name}/{name}: already exists", import.Message);
        using var image = pool.Pool.OpenImage(name);
        Assert.Single(image.Snapshots()); // the existing image is untouched
    }

    [Fact]
    public void Exporting_a_missing_snapshot_names_it_and_leaves_nothing()
    {
        var (name, _) = ImageWithSnapshot("nosnap");
        var path = _dir.File("nosnap.raw");
        var error = Assert.Throws<RbdNotFoundException>(() => RbdTransfer.Export(pool.Pool, name, "nope", path));
        Assert.Contains($"open image {pool.Name}/{name}@nope", error.Message);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public void Importing_a_missing_or_empty_file_says_what_is_wrong()
    {
        var missing = Assert.ThrowsAny<RbdException>(() => RbdTransfer.Import(pool.Pool, _dir.File("nope.raw"), pool.NewImageName("x")));
        Assert.Contains("nope.raw does not exist; give the path of an exported image file", missing.Message);
        var empty = _dir.File("empty.raw");
        File.WriteAllBytes(empty, []);
        var error = Assert.ThrowsAny<RbdException>(() => RbdTransfer.Import(pool.Pool, empty, pool.NewImageName("x")));
        Assert.Contains("is empty", error.Message);
    }

    [Fact]
    public void The_SHA256_is_of_the_bytes_written()
    {
        var (name, _) = ImageWithSnapshot("sha");
        var path = _dir.File("sha.raw");
        var exported = RbdTransfer.Export(pool.Pool, name, "s", path, chunkBytes: 3 << 20);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))), exported.Sha256);
    }

    private static async Task<string> RunStat(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("stat", ["-c", "%b", path]) { RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    /// <summary>Records every report on the calling thread (Progress&lt;T&gt; would post them elsewhere, later).</summary>
    private sealed class Recorded(Action<RbdTransferProgress>? then = null) : IProgress<RbdTransferProgress>
    {
        public List<RbdTransferProgress> Reports { get; } = [];

        public void Report(RbdTransferProgress value)
        {
            Reports.Add(value);
            then?.Invoke(value);
        }
    }
}
