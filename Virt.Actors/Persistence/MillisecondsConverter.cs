using System.Text.Json;
using System.Text.Json.Serialization;

namespace Virt.Actors.Persistence;

/// <summary>A duration as a number of milliseconds, for fields named <c>...Ms</c>.</summary>
public sealed class MillisecondsConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        TimeSpan.FromMilliseconds(reader.GetDouble());

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.TotalMilliseconds);
}
