using System.Text;
using System.Text.Json;

namespace Virt.Hocon;

/// <summary>Writes a resolved tree as JSON (for <c>virt-node --print-config</c>).</summary>
public static class HoconJson
{
    public static string Write(HoconObject resolved)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            Write(writer, resolved);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, HoconNode node)
    {
        switch (node)
        {
            case HoconObject o:
                writer.WriteStartObject();
                foreach (var (key, value) in o.Fields)
                {
                    writer.WritePropertyName(key);
                    Write(writer, value);
                }

                writer.WriteEndObject();
                break;
            case HoconArray a:
                writer.WriteStartArray();
                foreach (var item in a.Items)
                    Write(writer, item);
                writer.WriteEndArray();
                break;
            case HoconScalar { Kind: HoconScalarKind.Null }:
                writer.WriteNullValue();
                break;
            case HoconScalar { Kind: HoconScalarKind.Boolean } b:
                writer.WriteBooleanValue(b.Text == "true");
                break;
            case HoconScalar { Kind: HoconScalarKind.Number } n:
                writer.WriteRawValue(n.Text!);
                break;
            case HoconScalar s:
                writer.WriteStringValue(s.Text);
                break;
            default:
                throw new InvalidOperationException($"{node.GetType().Name} left in a resolved tree");
        }
    }
}
