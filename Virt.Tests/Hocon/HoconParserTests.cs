using Microsoft.Extensions.Configuration;
using Virt.Hocon;
using Virt.Tests.Support;

namespace Virt.Tests.Hocon;

public sealed class HoconParserTests
{
    private static readonly Dictionary<string, string> NoEnv = [];

    private static HoconObject Parse(string text, Dictionary<string, string>? env = null) =>
        new HoconDocumentBuilder().AddText(text, "test.conf").Resolve(k => (env ?? NoEnv).GetValueOrDefault(k));

    private static string Json(string text, Dictionary<string, string>? env = null) =>
        HoconJson.Write(Parse(text, env)).Replace(" ", "").Replace("\n", "").Replace("\r", "");

    private static HoconException Fails(string text, Dictionary<string, string>? env = null) =>
        Assert.Throws<HoconException>(() => Parse(text, env));

    [Fact]
    public void Objects_dotted_keys_and_separators()
    {
        Assert.Equal("""{"a":{"b":{"c":1,"d":"x"}},"e":true}""", Json("a.b.c = 1\na { b { d: x } }, e = true"));
        Assert.Equal("""{"a":1,"b":2}""", Json("{ a = 1, b = 2, }"));
        Assert.Equal("""{"a.b":{"c":3}}""", Json("\"a.b\".c = 3"));
    }

    [Fact]
    public void Later_objects_merge_and_later_scalars_replace()
    {
        Assert.Equal("""{"a":{"x":1,"y":2}}""", Json("a { x = 1 }\na { y = 2 }"));
        Assert.Equal("""{"a":{"x":3}}""", Json("a { x = 1 }\na.x = 3"));
        Assert.Equal("""{"a":5}""", Json("a { x = 1 }\na = 5"));
        Assert.Equal("""{"a":{"y":1}}""", Json("a = 5\na { y = 1 }"));
    }

    [Fact]
    public void Arrays_with_commas_newlines_and_trailing_commas()
    {
        Assert.Equal("""{"a":[1,2,3],"b":["x","y"],"c":[],"d":[{"n":1},[2]]}""",
            Json("a = [1, 2, 3]\nb = [\n  x\n  \"y\",\n]\nc = []\nd = [{n = 1}, [2]]"));
    }

    [Fact]
    public void Comments_of_both_kinds()
    {
        Assert.Equal("""{"a":1,"b":"x","c":2}""", Json("# top\na = 1 // trailing\nb = x # more\n// c = 9\nc = 2"));
    }

    [Fact]
    public void Quoted_unquoted_and_multi_line_strings()
    {
        var root = Parse("q = \"tab\\there \\\"quoted\\\" \\u00e9\"\nu = hello world\nm = \"\"\"line 1\n  \"line\" 2\"\"\"");
        Assert.Equal("tab\there \"quoted\" \u00e9", root.Find("q")!.ToString());
        Assert.Equal("hello world", root.Find("u")!.ToString());
        Assert.Equal("line 1\n  \"line\" 2", root.Find("m")!.ToString());
    }

    [Fact]
    public void Scalar_types_are_kept()
    {
        Assert.Equal("""{"i":10,"f":1.5,"n":-3,"b":false,"z":null,"s":"5s","ip":"10.0.0.1"}""",
            Json("i = 10\nf = 1.5\nn = -3\nb = false\nz = null\ns = 5s\nip = 10.0.0.1"));
    }

    [Fact]
    public void Substitutions_refer_to_any_path_and_resolve_after_later_overrides()
    {
        Assert.Equal("""{"dir":"/srv","db":"/srv/journal.db","x":{"y":"/srv"}}""",
            Json("dir = /var\ndb = ${dir}\"/journal.db\"\nx.y = ${dir}\ndir = /srv"));
    }

    [Fact]
    public void Substitution_of_an_object_and_of_an_array()
    {
        Assert.Equal("""{"base":{"a":1},"derived":{"a":1,"b":2},"l":[1],"l2":[1,2]}""",
            Json("base { a = 1 }\nderived = ${base} { b = 2 }\nl = [1]\nl2 = ${l} [2]"));
    }

    [Fact]
    public void Optional_environment_substitutions()
    {
        var env = new Dictionary<string, string> { ["VIRT_NAME"] = "node-7" };
        Assert.Equal("""{"name":"node-7","other":"kept"}""",
            Json("name = default\nname = ${?VIRT_NAME}\nother = kept\nother = ${?NOT_SET}", env));
        Assert.Equal("""{"home":"/root"}""", Json("home = ${HOME}", new() { ["HOME"] = "/root" }));
        Assert.Equal("""{}""", Json("gone = ${?NOT_SET}"));
    }

    [Fact]
    public void Self_references_and_plus_equals()
    {
        Assert.Equal("""{"path":"/bin:/usr/bin","l":[1,2,3],"fresh":["x"]}""",
            Json("path = /bin\npath = ${path}\":/usr/bin\"\nl = [1]\nl += 2\nl += 3\nfresh += x"));
    }

    [Fact]
    public void Include_is_relative_to_the_including_file_and_merges()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("conf.d"));
        File.WriteAllText(dir.File("conf.d/base.conf"), "virt { api.listen = \"0.0.0.0:1\", node.name = base }\ninclude \"more.conf\"");
        File.WriteAllText(dir.File("conf.d/more.conf"), "virt.extra = yes");
        File.WriteAllText(dir.File("main.conf"), "include \"conf.d/base.conf\"\nvirt.node.name = main\ninclude \"missing.conf\"\nvirt.ref = ${virt.node.name}");
        var root = new HoconDocumentBuilder().AddFile(dir.File("main.conf")).Resolve(_ => null);
        Assert.Equal("main", root.Find("virt.node.name")!.ToString());
        Assert.Equal("0.0.0.0:1", root.Find("virt.api.listen")!.ToString());
        Assert.Equal("yes", root.Find("virt.extra")!.ToString());
        Assert.Equal("main", root.Find("virt.ref")!.ToString());
    }

    [Fact]
    public void Include_inside_an_object_nests_the_included_fields()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("limits.conf"), "cpu = 4");
        File.WriteAllText(dir.File("main.conf"), "vm { include file(\"limits.conf\") }");
        var root = new HoconDocumentBuilder().AddFile(dir.File("main.conf")).Resolve(_ => null);
        Assert.Equal("4", root.Find("vm.cpu")!.ToString());
    }

    [Fact]
    public void Overrides_are_read_as_hocon_values_and_win()
    {
        var root = new HoconDocumentBuilder()
            .AddText("a { list = [1], n = 1, listen = \"127.0.0.1:9110\" }\nref = ${a.n}", "defaults")
            .AddOverride("a.list=[\"x\",\"y\"]")
            .AddOverride("a.n = 7")
            .AddOverride("a.listen=127.0.0.1:9200")
            .AddOverride("a.name=plain words")
            .AddOverride("a.obj={ k = v }")
            .Resolve(_ => null);
        Assert.Equal("""{"a":{"list":["x","y"],"n":7,"listen":"127.0.0.1:9200","name":"plainwords","obj":{"k":"v"}},"ref":7}""",
            HoconJson.Write(root).Replace(" ", "").Replace("\n", ""));
    }

    [Fact]
    public void The_binder_reads_durations_sizes_lists_and_dashed_keys()
    {
        var root = Parse("""
            o {
              timeout = 500ms
              window = 2m
              plain-ms = 250
              classic = "00:00:05"
              memory = 512MiB
              disk = 4G
              decimal = 2GB
              hosts = [a, b]
            }
            """);
        var options = new ConfigurationBuilder().AddHocon(root).Build().GetSection("o").Get<Sample>()!;
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Timeout);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Window);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.PlainMs);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Classic);
        Assert.Equal(512L * 1024 * 1024, options.Memory);
        Assert.Equal(4L * 1024 * 1024 * 1024, options.Disk);
        Assert.Equal(2_000_000_000L, options.Decimal);
        Assert.Equal(["a", "b"], options.Hosts);
    }

    public sealed class Sample
    {
        public TimeSpan Timeout { get; set; }

        public TimeSpan Window { get; set; }

        [ConfigurationKeyName("plain-ms")]
        public TimeSpan PlainMs { get; set; }

        public TimeSpan Classic { get; set; }

        public long Memory { get; set; }

        public long Disk { get; set; }

        public long Decimal { get; set; }

        public List<string> Hosts { get; set; } = [];
    }

    [Theory]
    [InlineData("1 hour", 3600_000)]
    [InlineData("1.5s", 1500)]
    [InlineData("3d", 259_200_000)]
    [InlineData("250us", 0.25)]
    public void Durations_in_every_unit(string text, double ms) => Assert.Equal(ms, HoconDuration.Parse(text).TotalMilliseconds);

    [Theory]
    [InlineData("5 parsecs")]
    [InlineData("fast")]
    public void Bad_durations_say_what_a_duration_looks_like(string text) =>
        Assert.Contains("500ms", Assert.Throws<FormatException>(() => HoconDuration.Parse(text)).Message);

    [Fact]
    public void Bad_sizes_say_what_a_size_looks_like() =>
        Assert.Contains("512MiB", Assert.Throws<FormatException>(() => HoconSize.Parse("lots")).Message);

    [Fact]
    public void Errors_name_file_line_and_column_and_what_was_expected()
    {
        var e = Fails("a = 1\nb {\n  c = 2\n");
        Assert.StartsWith("test.conf:4:1:", e.Message);
        Assert.Contains("expected '}' to close the object opened at 2:3", e.Message);

        e = Fails("a = 1\nb 2");
        Assert.Equal(new HoconPosition("test.conf", 2, 3), e.Position);
        Assert.Contains("expected ':', '=', '+=' or '{' after key 'b'", e.Message);

        e = Fails("listen = 127.0.0.1:9110");
        Assert.Equal(19, e.Position.Column);
        Assert.Contains("quote values that contain ':'", e.Message);

        Assert.Contains("unterminated string", Fails("a = \"open").Message);
        Assert.Contains("expected ']' to close the array opened at 1:5", Fails("a = [1, 2").Message);
        Assert.Contains("expected a value", Fails("a = \nb = 1").Message);
        Assert.Contains("invalid escape", Fails("a = \"\\q\"").Message);
        Assert.Contains("expected ',' or a new line", Fails("a = 1 } b = 2").Message);
        Assert.Contains("empty key segment", Fails("a..b = 1").Message);
        Assert.Contains("cannot join", Fails("a = [1] x").Message);
    }

    [Fact]
    public void Substitution_errors_say_how_to_fix_them()
    {
        var e = Fails("a = 1\nb = ${missing.key}");
        Assert.Equal(new HoconPosition("test.conf", 2, 5), e.Position);
        Assert.Contains("${?missing.key}", e.Message);

        Assert.Contains("cycle", Fails("a = ${b}\nb = ${a}").Message);
        Assert.Contains("expected '}' to close the substitution", Fails("a = ${b").Message);
    }

    [Fact]
    public void Include_errors_name_the_file()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("a.conf"), "include \"b.conf\"");
        File.WriteAllText(dir.File("b.conf"), "include \"a.conf\"");
        Assert.Contains("include cycle", Assert.Throws<HoconException>(() => new HoconDocumentBuilder().AddFile(dir.File("a.conf"))).Message);

        File.WriteAllText(dir.File("c.conf"), "include required(\"nope.conf\")");
        var e = Assert.Throws<HoconException>(() => new HoconDocumentBuilder().AddFile(dir.File("c.conf")));
        Assert.Contains("nope.conf", e.Message);
        Assert.StartsWith(dir.File("c.conf") + ":1:1", e.Message);

        File.WriteAllText(dir.File("bad.conf"), "a {\n  b = [1,\n");
        var inner = Assert.Throws<HoconException>(() => new HoconDocumentBuilder().AddFile(dir.File("bad.conf")));
        Assert.StartsWith(dir.File("bad.conf") + ":3:1", inner.Message);

        Assert.Contains("not found", Assert.Throws<HoconException>(() => new HoconDocumentBuilder().AddFile(dir.File("none.conf"))).Message);
    }

    [Fact]
    public void Override_errors_name_the_override()
    {
        var e = Assert.Throws<HoconException>(() => new HoconDocumentBuilder().AddOverride("novalue"));
        Assert.Contains("expected key=value", e.Message);
        e = Assert.Throws<HoconException>(() => new HoconDocumentBuilder().AddOverride("a=[1,2"));
        Assert.StartsWith("--set #1 (a=[1,2)", e.Message);
    }
}
