using System.Runtime.CompilerServices;
using System.Text.Json;
using Virt.Node.Rbd;

namespace Virt.Tests.Rbd;

/// <summary>Image create, info, resize, list, remove, read and write, each checked against what the rbd CLI reads from Ceph.</summary>
public sealed class ImageTests(RbdTestPool pool) : IClassFixture<RbdTestPool>
{
    private const long MiB = 1 << 20;

    private Task<JsonElement> CliInfo(string image) => pool.RbdJson("info", $"{pool.Name}/{image}");

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).Order().ToList();

    [Fact]
    public void The_native_image_info_struct_is_the_size_librbd_writes()
    {
        Assert.Equal(160, Unsafe.SizeOf<RbdNative.ImageInfoNative>());
        Assert.Equal(24, Unsafe.SizeOf<RbdNative.SnapInfoNative>());
    }

    [Fact]
    public async Task Create_with_features_then_info_agrees_with_Ceph()
    {
        var name = pool.NewImageName("create");
        pool.Pool.CreateImage(name, 64 * MiB, RbdFeatures.Layering | RbdFeatures.ExclusiveLock);
        using var image = pool.Pool.OpenImage(name);
        var info = image.Info();
        var cli = await CliInfo(name);

        Assert.Equal(64 * MiB, info.SizeBytes);
        Assert.Equal(cli.GetProperty("size").GetInt64(), info.SizeBytes);
        Assert.Equal(["exclusive-lock", "layering"], Strings(cli.GetProperty("features")));
        Assert.Equal(RbdFeatures.Layering | RbdFeatures.ExclusiveLock, info.Features);
        Assert.Equal(cli.GetProperty("id").GetString(), info.Id);
        Assert.Equal(cli.GetProperty("block_name_prefix").GetString(), info.BlockNamePrefix);
        Assert.Equal(cli.GetProperty("order").GetInt32(), info.Order);
        Assert.Equal(1L << info.Order, info.ObjectSizeBytes);
        Assert.Equal(cli.GetProperty("objects").GetInt64(), info.ObjectCount);
        Assert.Equal($"{pool.Name}/{name}", info.Spec);
    }

    [Fact]
    public async Task Without_features_the_cluster_default_features_are_used()
    {
        var name = pool.NewImageName("defaults");
        pool.Pool.CreateImage(name, 8 * MiB);
        using var image = pool.Pool.OpenImage(name);
        Assert.Equal(RbdFeatures.Default, image.Info().Features);
        Assert.Equal(["deep-flatten", "exclusive-lock", "fast-diff", "layering", "object-map"], Strings((await CliInfo(name)).GetProperty("features")));
    }

    [Fact]
    public async Task Resize_grows_and_shrinks_only_when_allowed()
    {
        var name = pool.NewImageName("resize");
        pool.Pool.CreateImage(name, 16 * MiB, RbdFeatures.Layering);
        using var image = pool.Pool.OpenImage(name);

        image.Resize(48 * MiB);
        Assert.Equal(48 * MiB, (await CliInfo(name)).GetProperty("size").GetInt64());

        var refused = Assert.ThrowsAny<RbdException>(() => image.Resize(8 * MiB));
        Assert.Contains($"resize image {pool.Name}/{name}: refusing to shrink it", refused.Message);
        Assert.Contains("allow shrinking", refused.Message);
        Assert.Equal(48 * MiB, (await CliInfo(name)).GetProperty("size").GetInt64());

        image.Resize(8 * MiB, allowShrink: true);
        Assert.Equal(8 * MiB, (await CliInfo(name)).GetProperty("size").GetInt64());
        Assert.Equal(8 * MiB, image.SizeBytes());
    }

    [Fact]
    public async Task List_names_the_same_images_as_Ceph()
    {
        using var own = pool.Admin.OpenPool(await pool.Ceph.CreatePool("list"));
        Assert.Empty(own.ListImages());
        var names = Enumerable.Range(0, 20).Select(i => $"img-{i:D2}").ToList(); // more than the first buffer holds
        foreach (var n in names)
            own.CreateImage(n, MiB, RbdFeatures.Layering);
        var cli = JsonDocument.Parse(await pool.Ceph.Rbd("ls", own.Name, "--format", "json")).RootElement;
        Assert.Equal(names, own.ListImages());
        Assert.Equal(names, Strings(cli));
    }

    [Fact]
    public async Task Remove_deletes_the_image_from_Ceph()
    {
        var name = pool.NewImageName("remove");
        pool.Pool.CreateImage(name, 4 * MiB, RbdFeatures.Layering);
        pool.Pool.RemoveImage(name);
        Assert.DoesNotContain(name, Strings(JsonDocument.Parse(await pool.Ceph.Rbd("ls", pool.Name, "--format", "json")).RootElement));
        var gone = Assert.Throws<RbdNotFoundException>(() => pool.Pool.OpenImage(name));
        Assert.Equal($"{pool.Name}/{name}", gone.Image);
        Assert.Contains($"there is no image {pool.Name}/{name}: create it first", gone.Message);
    }

    [Fact]
    public void Writes_of_one_client_are_read_by_another()
    {
        var name = pool.NewImageName("rw");
        pool.Pool.CreateImage(name, 16 * MiB, RbdFeatures.Layering);
        var data = new byte[100_000];
        Random.Shared.NextBytes(data);
        using (var image = pool.Pool.OpenImage(name))
        {
            image.Write(5 * MiB + 3, data);
            image.Flush();
        }

        var (client, other) = pool.NewClient();
        using (client)
        using (other)
        using (var image = other.OpenImage(name, readOnly: true))
        {
            var back = new byte[data.Length];
            Assert.Equal(data.Length, image.Read(5 * MiB + 3, back));
            Assert.Equal(data, back);
            var tail = new byte[4096];
            Assert.Equal(100, image.Read(16 * MiB - 100, tail)); // short read at the end of the image
        }
    }

    [Fact]
    public void Creating_an_image_that_exists_names_it_and_says_what_to_do()
    {
        var name = pool.NewImageName("dup");
        pool.Pool.CreateImage(name, MiB, RbdFeatures.Layering);
        var error = Assert.ThrowsAny<RbdException>(() => pool.Pool.CreateImage(name, 2 * MiB));
        Assert.Equal(CephErrno.EEXIST, error.Errno);
        Assert.Equal($"create image {pool.Name}/{name}: already exists (errno 17); choose another name, or remove {pool.Name}/{name} first", error.Message);
        using var image = pool.Pool.OpenImage(name);
        Assert.Equal(MiB, image.SizeBytes()); // untouched
    }

    [Fact]
    public void A_zero_size_is_refused_before_Ceph_is_asked()
    {
        var name = pool.NewImageName("zero");
        var error = Assert.ThrowsAny<RbdException>(() => pool.Pool.CreateImage(name, 0));
        Assert.Contains("the size must be positive", error.Message);
        Assert.DoesNotContain(name, pool.Pool.ListImages());
    }

    [Fact]
    public async Task Removing_an_image_with_snapshots_says_to_remove_them_first()
    {
        var name = pool.NewImageName("withsnap");
        pool.Pool.CreateImage(name, MiB, RbdFeatures.Layering);
        using (var image = pool.Pool.OpenImage(name))
            image.CreateSnapshot("keep");
        var error = Assert.ThrowsAny<RbdException>(() => pool.Pool.RemoveImage(name));
        Assert.Equal(CephErrno.ENOTEMPTY, error.Errno);
        Assert.Contains($"remove image {pool.Name}/{name}", error.Message);
        Assert.Contains("it still has snapshots: remove them first", error.Message);
        Assert.Contains(name, Strings(JsonDocument.Parse(await pool.Ceph.Rbd("ls", pool.Name, "--format", "json")).RootElement));
    }

    [Fact]
    public async Task Removing_an_image_another_client_has_open_is_refused_and_says_why()
    {
        var name = pool.NewImageName("inuse");
        pool.Pool.CreateImage(name, MiB, RbdFeatures.Layering);
        var (client, other) = pool.NewClient();
        using (client)
        using (other)
        using (other.OpenImage(name))
        {
            var error = Assert.ThrowsAny<RbdException>(() => pool.Pool.RemoveImage(name));
            Assert.Equal(CephErrno.EBUSY, error.Errno);
            Assert.Contains("a client still has it open (a running VM?)", error.Message);
        }

        Assert.Contains(name, Strings(JsonDocument.Parse(await pool.Ceph.Rbd("ls", pool.Name, "--format", "json")).RootElement));
    }
}
