namespace Virt.Tests.Support;

/// <summary>Where the real virt-node and virt builds are, next to this test build (same configuration).</summary>
public static class Binaries
{
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    public static string VirtNode => Built("Virt.Node", "virt-node.dll");

    public static string Virt => Built("Virt.Shell", "virt.dll");

    private static string Built(string project, string dll)
    {
        var path = Path.Combine(RepoRoot, project, "bin", Configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{dll} is not built; build the solution first", path);
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Virt.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find Virt.sln above " + AppContext.BaseDirectory);
    }
}
