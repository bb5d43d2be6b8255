using System.Text.Json.Nodes;
using Virt.Shell.Palettes;

namespace Virt.Shell.Output;

/// <summary>Prints an answer the way its command's palette says: a table, labelled fields or one line; JSON when asked, or when the palette says nothing.</summary>
internal static class Printer
{
    public static void Print(PaletteCommand command, JsonNode answer, IReadOnlyDictionary<string, List<string>> parameters)
    {
        if (command.View is { } view && Views.TryPrint(view, answer))
            return;
        var output = command.Output;
        if (output?.Table is { } table)
        {
            var rows = Rows(table, answer);
            if (rows.Count == 0 && output.Empty is { } empty)
            {
                Console.Out.WriteLine(empty);
                return;
            }

            var printed = NewTable(table);
            foreach (var row in rows)
                printed.Add(Cells(table, row, parameters));
            Console.Out.WriteLine(printed);
        }
        else if (output?.Fields is { } fields)
        {
            Fields(fields, answer, parameters);
        }
        else if (output?.Line is { } line)
        {
            Console.Out.WriteLine(Template.Render(line, answer, parameters));
        }
        else
        {
            JsonOutput.Print(answer);
        }
    }

    public static List<JsonNode?> Rows(TableSpec table, JsonNode answer) =>
        (table.Items is null ? answer : Template.Lookup(answer, table.Items)) is JsonArray array ? array.ToList() : [answer];

    public static Table NewTable(TableSpec table) => new(
        table.Columns.Select(c => c.Header).ToArray(),
        table.Columns.Select(c => c.Width).ToArray(),
        table.Columns.Select(c => c.Align == "right").ToArray(),
        table.Columns.Select(c => c.Colour).ToArray());

    public static string[] Cells(TableSpec table, JsonNode? row, IReadOnlyDictionary<string, List<string>> parameters) =>
        table.Columns.Select(c => Template.Render(c.Value, row, parameters)).ToArray();

    private static void Fields(List<FieldSpec> fields, JsonNode answer, IReadOnlyDictionary<string, List<string>> parameters)
    {
        var lines = new List<(string Label, string Value, string? Colour)>();
        foreach (var field in fields)
        {
            var items = field.Each is null ? [answer] : Template.Lookup(answer, field.Each) is JsonArray array ? array.ToList() : [];
            foreach (var item in items)
            {
                var value = Template.Render(field.Value, item, parameters);
                if (value.Length > 0)
                    lines.Add((field.Label, value, field.Colour));
            }
        }

        var width = lines.Count == 0 ? 0 : lines.Max(l => l.Label.Length);
        foreach (var (label, value, colour) in lines)
            Console.Out.WriteLine($"{label.PadRight(width)}  {Terminal.Paint(colour, value)}");
    }
}
