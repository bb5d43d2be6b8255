using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Virt.Actors.Persistence;

/// <summary>
/// Turns events, snapshots and messages into JSON bytes plus a manifest (a stable name with a version, e.g.
/// <c>vm.defined.v1</c>) and back. Types must be registered: the manifest, not the CLR name, is what the journal
/// keeps, so classes can be renamed freely. An upcaster lets a stored old manifest be read as a newer type.
/// </summary>
public sealed class ManifestCodec
{
    private readonly Dictionary<Type, string> _manifests = new();
    private readonly Dictionary<string, Type> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string To, Func<JsonObject, JsonObject> Upcast)> _upcasters = new(StringComparer.Ordinal);

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public ManifestCodec Register<T>(string manifest) => Register(typeof(T), manifest);

    public ManifestCodec Register(Type type, string manifest)
    {
        if (_types.TryGetValue(manifest, out var existing) && existing != type)
            throw new ArgumentException($"manifest '{manifest}' is already registered for {existing.Name}", nameof(manifest));
        if (_manifests.TryGetValue(type, out var other) && other != manifest)
            throw new ArgumentException($"{type.Name} is already registered as '{other}'", nameof(type));
        _manifests[type] = manifest;
        _types[manifest] = type;
        return this;
    }

    public string ManifestOf(Type type) =>
        _manifests.TryGetValue(type, out var manifest)
            ? manifest
            : throw new UnknownManifestException($"{type.FullName} has no manifest; register it in VirtManifests (Register<{type.Name}>(\"name.v1\"))");

    public IEnumerable<KeyValuePair<Type, string>> Registered => _manifests;

    /// <summary>Reads a stored <paramref name="fromManifest"/> as <paramref name="toManifest"/> after <paramref name="upcast"/>; chains are followed.</summary>
    public ManifestCodec AddUpcaster(string fromManifest, string toManifest, Func<JsonObject, JsonObject> upcast)
    {
        _upcasters[fromManifest] = (toManifest, upcast);
        return this;
    }

    public bool IsRegistered(Type type) => _manifests.ContainsKey(type);

    public (string Manifest, byte[] Payload) Serialize(object value)
    {
        var type = value.GetType();
        return (ManifestOf(type), JsonSerializer.SerializeToUtf8Bytes(value, type, JsonOptions));
    }

    public object Deserialize(string manifest, ReadOnlySpan<byte> payload)
    {
        if (!_upcasters.ContainsKey(manifest))
            return JsonSerializer.Deserialize(payload, TypeOf(manifest), JsonOptions)
                   ?? throw new UnknownManifestException($"payload of '{manifest}' is null");

        var node = JsonNode.Parse(payload) as JsonObject
                   ?? throw new UnknownManifestException($"payload of '{manifest}' is not a JSON object");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (_upcasters.TryGetValue(manifest, out var step))
        {
            if (!seen.Add(manifest))
                throw new UnknownManifestException($"upcasters loop at manifest '{manifest}'");
            node = step.Upcast(node);
            manifest = step.To;
        }

        return node.Deserialize(TypeOf(manifest), JsonOptions)
               ?? throw new UnknownManifestException($"payload of '{manifest}' is null");
    }

    private Type TypeOf(string manifest) =>
        _types.TryGetValue(manifest, out var type)
            ? type
            : throw new UnknownManifestException(
                $"the journal holds manifest '{manifest}' that this version does not know; register its type or add an upcaster");
}

public sealed class UnknownManifestException(string message) : Exception(message);
