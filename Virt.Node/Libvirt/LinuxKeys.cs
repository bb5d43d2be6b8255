namespace Virt.Node.Libvirt;

/// <summary>
/// Key names to Linux input key codes (linux/input-event-codes.h), the codeset virDomainSendKey takes by default.
/// Names as in the header without <c>KEY_</c> (<c>leftctrl</c>, <c>f12</c>, <c>a</c>), case-insensitive, plus the
/// short names people type: ctrl, alt, shift, meta, del, esc, return.
/// </summary>
internal static class LinuxKeys
{
    /// <summary>libvirt takes at most this many keys pressed together.</summary>
    public const int MaxPressed = 16;

    public const uint LeftAlt = 56;
    public const uint SysRq = 99;

    private static readonly Dictionary<string, uint> Codes = Build();

    /// <summary>The code of <paramref name="name"/> (with or without KEY_), or null.</summary>
    public static uint? Code(string name)
    {
        var key = name.Trim().ToLowerInvariant();
        if (key.StartsWith("key_", StringComparison.Ordinal))
            key = key[4..];
        return Codes.TryGetValue(key, out var code) ? code : null;
    }

    public static IEnumerable<string> Names => Codes.Keys;

    private static Dictionary<string, uint> Build()
    {
        var codes = new Dictionary<string, uint>(StringComparer.Ordinal)
        {
            ["esc"] = 1, ["minus"] = 12, ["equal"] = 13, ["backspace"] = 14, ["tab"] = 15, ["leftbrace"] = 26, ["rightbrace"] = 27,
            ["enter"] = 28, ["leftctrl"] = 29, ["semicolon"] = 39, ["apostrophe"] = 40, ["grave"] = 41, ["leftshift"] = 42,
            ["backslash"] = 43, ["comma"] = 51, ["dot"] = 52, ["slash"] = 53, ["rightshift"] = 54, ["kpasterisk"] = 55,
            ["leftalt"] = LeftAlt, ["space"] = 57, ["capslock"] = 58, ["numlock"] = 69, ["scrolllock"] = 70, ["f11"] = 87, ["f12"] = 88,
            ["rightctrl"] = 97, ["sysrq"] = SysRq, ["rightalt"] = 100, ["home"] = 102, ["up"] = 103, ["pageup"] = 104, ["left"] = 105,
            ["right"] = 106, ["end"] = 107, ["down"] = 108, ["pagedown"] = 109, ["insert"] = 110, ["delete"] = 111, ["pause"] = 119,
            ["leftmeta"] = 125, ["rightmeta"] = 126,
            ["ctrl"] = 29, ["alt"] = LeftAlt, ["shift"] = 42, ["meta"] = 125, ["super"] = 125, ["del"] = 111, ["return"] = 28,
        };
        const string top = "qwertyuiop", middle = "asdfghjkl", bottom = "zxcvbnm";
        for (var i = 0; i < top.Length; i++)
            codes[top[i].ToString()] = (uint)(16 + i);
        for (var i = 0; i < middle.Length; i++)
            codes[middle[i].ToString()] = (uint)(30 + i);
        for (var i = 0; i < bottom.Length; i++)
            codes[bottom[i].ToString()] = (uint)(44 + i);
        for (var i = 1; i <= 9; i++)
            codes[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = (uint)(1 + i);
        codes["0"] = 11;
        for (var i = 1; i <= 10; i++)
            codes[$"f{i}"] = (uint)(58 + i);
        return codes;
    }
}
