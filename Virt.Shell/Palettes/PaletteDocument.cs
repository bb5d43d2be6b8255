using System.Text.Json;

namespace Virt.Shell.Palettes;

/// <summary>
/// What <c>GET /v1/palettes</c> serves: every command the node offers, as data. The shell parses, completes, runs and
/// prints commands from this alone, so a palette the node adds appears in an older shell. Version 1 grows only by
/// additions; a field this shell does not know is ignored, an unknown parameter type is read as text and an unknown
/// output is printed as JSON.
/// </summary>
/// <param name="Cluster">The cluster's name, for the prompt.</param>
/// <param name="Node">The answering node's name, for the prompt.</param>
/// <param name="Completions">Where live names come from, by the name parameters use in <c>complete</c>.</param>
internal sealed record PaletteDocument(int Version, string? Cluster, string? Node, Dictionary<string, CompletionSource>? Completions, List<Palette> Palettes);

/// <summary>Live names: GET <paramref name="Path"/>, take the array (or its <paramref name="Items"/> field) and render <paramref name="Value"/> per item.</summary>
internal sealed record CompletionSource(string Path, string? Items, string Value);

/// <summary>A group of commands: <c>vm</c>, <c>node</c>, <c>cluster</c>...</summary>
internal sealed record Palette(string Name, string Description, List<PaletteCommand> Commands);

/// <summary>
/// One command. <paramref name="Name"/> "" makes the palette itself the command (<c>virt events</c>). Either
/// <paramref name="Request"/> (an HTTP call to the node) or <paramref name="Local"/> (something this shell runs
/// itself: <c>plan</c> offline, <c>edit</c> with the node). <paramref name="View"/> names a richer rendering the shell may know;
/// <paramref name="Output"/> is the generic one and the fallback. <paramref name="RefusedIf"/> names a field of the
/// answer that, when true, a non-empty list or a number above zero, makes the exit status 1 (a bulk command where some
/// VMs refused). <paramref name="Each"/> names a list field of the answer: when the answer has it, the command acted
/// on each item in it (a bulk stop by label), and the output and --wait apply to each item (by its <c>name</c>).
/// <paramref name="OneOf"/>: exactly one of these parameters must be given (<c>NAME</c> or <c>--label</c>).
/// </summary>
internal sealed record PaletteCommand(
    string Name,
    string Description,
    List<Parameter>? Arguments,
    List<Parameter>? Options,
    RequestTemplate? Request,
    string? Local,
    WaitSpec? Wait,
    FollowSpec? Follow,
    OutputSpec? Output,
    string? View,
    WatchSpec? Watch = null,
    EditSpec? Edit = null,
    string? RefusedIf = null,
    string? Each = null,
    List<string>? OneOf = null,
    ConsoleSpec? Console = null);

/// <summary>
/// A positional argument (<c>NAME</c>) or an option (<c>--vcpus</c>). <paramref name="Type"/>: string, int, flag,
/// size, duration, choice, file, json-file, disk, nic, label (KEY=VALUE, into an object), label-key (KEY, set to null
/// in that object: removed by a merge patch). <paramref name="To"/> says where the value goes:
/// <c>path</c> (the <c>{NAME}</c> in the request path), <c>query.KEY</c>, <c>body.FIELD</c>, or <c>body</c>
/// (a json-file that is the whole body). <paramref name="Complete"/> names a completion source.
/// </summary>
internal sealed record Parameter(
    string Name,
    List<string>? Aliases,
    string Type,
    List<string>? Choices,
    bool Repeat,
    bool Required,
    JsonElement? Default,
    string? Description,
    string? Complete,
    string? To);

internal sealed record RequestTemplate(string Method, string Path);

/// <summary>What <c>--wait</c> polls: GET <paramref name="Path"/> until <paramref name="Field"/> is one of <paramref name="Until"/>; ending in <paramref name="Failed"/> is a refusal.</summary>
internal sealed record WaitSpec(string Path, string Field, List<string> Until, List<string>? Failed);

/// <summary>
/// What <c>local: "edit"</c> opens: GET <paramref name="Path"/> gives the document to edit; the command's request sends
/// it back.
/// </summary>
internal sealed record EditSpec(string Path);

/// <summary>What <c>local: "console"</c> connects to: a WebSocket at <paramref name="Path"/> carrying the console's bytes.</summary>
internal sealed record ConsoleSpec(string Path);

/// <summary>With <c>--watch</c>, the command is asked again every <paramref name="Seconds"/> and its output redrawn in place.</summary>
internal sealed record WatchSpec(int Seconds);

/// <summary>What <c>--follow</c> streams: server-sent events from <paramref name="Path"/><c>?after=</c> the last <paramref name="After"/> seen; <paramref name="Match"/> keeps items whose field equals an option's value.</summary>
internal sealed record FollowSpec(string Path, string After, Dictionary<string, string>? Match);

/// <summary>How a person sees the answer: a table, labelled fields, or one line (templates, see <c>Template</c>).</summary>
internal sealed record OutputSpec(TableSpec? Table, List<FieldSpec>? Fields, string? Line, string? Empty);

/// <param name="Items">The field holding the rows; absent: the answer is the array.</param>
internal sealed record TableSpec(List<ColumnSpec> Columns, string? Items);

/// <param name="Width">Minimum width, so live lines of a stream line up with the table above them.</param>
internal sealed record ColumnSpec(string Header, string Value, int Width, string? Align, string? Colour);

/// <param name="Each">An array field: one line per item. A line whose value renders empty is left out.</param>
internal sealed record FieldSpec(string Label, string Value, string? Each, string? Colour);
