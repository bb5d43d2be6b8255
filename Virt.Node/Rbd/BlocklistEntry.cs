using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Virt.Node.Rbd;

/// <summary>One entry of the OSD blocklist: a client address (or a CIDR range) and when the entry lapses.</summary>
internal sealed record BlocklistEntry(string Address, DateTimeOffset Until, bool IsRange)
{
    /// <summary>
    /// Reads <c>osd blocklist ls</c>'s JSON: an array of addresses, then (Pacific and later) an array of ranges,
    /// one after the other in the same buffer.
    /// </summary>
    public static IReadOnlyList<BlocklistEntry> Parse(string json)
    {
        var entries = new List<BlocklistEntry>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.StartArray)
                throw new FormatException($"unexpected blocklist listing from Ceph: {json}");
            foreach (var item in JsonElement.ParseValue(ref reader).EnumerateArray())
            {
                var isRange = item.TryGetProperty("range", out var range);
                var address = isRange ? range.GetString()! : item.GetProperty("addr").GetString()!;
                entries.Add(new BlocklistEntry(address, ParseUntil(item.GetProperty("until").GetString()!), isRange));
            }
        }

        return entries;
    }

    /// <summary>Ceph prints <c>2026-12-01T11:19:39.192507+0000</c>: an offset without a colon.</summary>
    private static DateTimeOffset ParseUntil(string text)
    {
        if (text.Length > 5 && text[^5] is '+' or '-' && text[^4..].All(char.IsAsciiDigit))
            text = text[..^2] + ":" + text[^2..];
        return DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
    }
}
