using System.Text.Json;
using System.Text.Json.Serialization;

namespace Virt.Node.Api;

/// <summary>The API's JSON: camelCase fields, enum values in lower kebab case (<c>running</c>, <c>on-failure</c>).</summary>
internal static class ApiJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower), new DurationConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>An enum value as the API writes it (<c>lease-lost</c>), for messages.</summary>
    public static string Name<T>(T value)
        where T : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    /// <summary>Durations as HOCON-style text ("30s") so they read back through the same parser.</summary>
    private sealed class DurationConverter : JsonConverter<TimeSpan>
    {
        public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Hocon.HoconDuration.Parse(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
            writer.WriteStringValue($"{value.TotalSeconds:0.###}s");
    }
}
