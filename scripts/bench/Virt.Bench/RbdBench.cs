using System.Diagnostics;
using Virt.Node.Rbd;
using Virt.Tests.Support;

namespace Virt.Bench;

/// <summary>
/// Issue 12's Ceph figures on the tests' micro cluster (one monitor, one memstore OSD on 127.0.0.1): export of a
/// snapshot of a 256 MiB image full of data to a file (streamed, SHA-256, synced to disk) in MiB/s, the import of that
/// file back, and the latency of creating a snapshot (50 of them). Memstore keeps the OSD's data in memory, so these
/// figures measure the binding, librbd and the local disk, not a real cluster's network and drives.
/// </summary>
internal static class RbdBench
{
    private const long MiB = 1 << 20;

    public static async Task Run()
    {
        var ceph = await CephCluster.Start(memstoreBytes: 3L << 30);
        using var dir = new TempDirectory("virt-bench-rbd");
        try
        {
            using var client = ceph.Connect();
            using var pool = client.OpenPool("rbd");
            Transfer(pool, dir, sizeMiB: 256, runs: 3);
            await CliExport(ceph, dir, sizeMiB: 256);
            Snapshots(pool, count: 50);
        }
        finally
        {
            ceph.Stop();
        }
    }

    private static void Transfer(RbdPool pool, TempDirectory dir, int sizeMiB, int runs)
    {
        pool.CreateImage("bench-export", sizeMiB * MiB);
        using (var image = pool.OpenImage("bench-export"))
        {
            var chunk = new byte[4 * MiB];
            for (long offset = 0; offset < sizeMiB * MiB; offset += chunk.Length)
            {
                Random.Shared.NextBytes(chunk); // data everywhere: no zero chunk to skip
                image.Write(offset, chunk);
            }

            image.CreateSnapshot("s");
        }

        var exports = new List<double>();
        var imports = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var path = Path.Combine(dir.Path, $"export-{run}.raw");
            var watch = Stopwatch.StartNew();
            var exported = RbdTransfer.Export(pool, "bench-export", "s", path);
            exports.Add(exported.Bytes / (double)MiB / watch.Elapsed.TotalSeconds);

            watch.Restart();
            RbdTransfer.Import(pool, path, $"bench-import-{run}", expectedSha256: exported.Sha256);
            imports.Add(exported.Bytes / (double)MiB / watch.Elapsed.TotalSeconds);
            File.Delete(path);
            pool.RemoveImage($"bench-import-{run}");
        }

        exports.Sort();
        imports.Sort();
        Report.Line($"export of a {sizeMiB} MiB snapshot to a file, SHA-256, fsync (median of {runs})", exports[runs / 2], "MiB/s");
        Report.Line($"  best / worst", $"{exports[^1]:N0} / {exports[0]:N0} MiB/s");
        Report.Line($"import of that file into a new image, SHA-256 checked (median of {runs})", imports[runs / 2], "MiB/s");
    }

    /// <summary>The rbd CLI's own export of the same snapshot (parallel reads, no checksum), for comparison.</summary>
    private static async Task CliExport(CephCluster ceph, TempDirectory dir, int sizeMiB)
    {
        var path = Path.Combine(dir.Path, "cli.raw");
        var watch = Stopwatch.StartNew();
        await ceph.Rbd("export", "rbd/bench-export@s", path);
        Report.Line("  for comparison: rbd export (CLI, no checksum, no fsync)", sizeMiB / watch.Elapsed.TotalSeconds, "MiB/s");
        File.Delete(path);
    }

    /// <summary>
    /// Snapshots of one image, back to back, with a write in between. Each takes a snapshot id from the monitor (an OSD
    /// map commit) and notifies the image's watchers: several round trips between three processes.
    /// </summary>
    private static void Snapshots(RbdPool pool, int count)
    {
        pool.CreateImage("bench-snap", 1024 * MiB);
        using var image = pool.OpenImage("bench-snap");
        image.Write(0, new byte[4096]);
        image.CreateSnapshot("warm-up");
        var latencies = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            image.CreateSnapshot($"s{i}");
            latencies.Add(watch.Elapsed.TotalMilliseconds);
            image.Write(i * 4096, new byte[4096]); // something changed between snapshots, as on a running disk
        }

        latencies.Sort();
        Report.Line($"snapshot create latency, p50 / p99 of {count}", $"{Report.Percentile(latencies, 50):N1} / {Report.Percentile(latencies, 99):N1} ms");
    }
}
