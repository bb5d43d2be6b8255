using System.Text;

namespace Virt.Shell.Output;

/// <summary>A plain text table: a header, aligned columns, no borders. Easy on the eye and on grep; colour only on a terminal.</summary>
internal sealed class Table
{
    private readonly string[] _headers;
    private readonly int[] _minimumWidths;
    private readonly bool[] _right;
    private readonly string?[] _colours;
    private readonly List<string[]> _rows = [];

    public Table(params string[] headers)
        : this(headers, new int[headers.Length], new bool[headers.Length], new string?[headers.Length])
    {
    }

    public Table(string[] headers, int[] minimumWidths, bool[] right, string?[] colours)
    {
        (_headers, _minimumWidths, _right, _colours) = (headers, minimumWidths, right, colours);
        Widths = headers.Select((h, i) => Math.Max(h.Length, minimumWidths[i])).ToArray();
    }

    /// <summary>The width of each column so far (rows widen them); a live line printed with these lines up with the table.</summary>
    public int[] Widths { get; }

    public void Add(params object?[] cells)
    {
        var row = cells.Select(c => c?.ToString() ?? "-").ToArray();
        for (var i = 0; i < row.Length && i < Widths.Length; i++)
            Widths[i] = Math.Max(Widths[i], row[i].Length);
        _rows.Add(row);
    }

    public int Count => _rows.Count;

    /// <summary>One row, padded to <see cref="Widths"/>.</summary>
    public string Line(IReadOnlyList<string> cells, bool header = false)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            var last = i == cells.Count - 1;
            var text = cells[i];
            var pad = new string(' ', Math.Max(0, Widths[i] - text.Length));
            var painted = header ? Terminal.Bold(text) : Terminal.Paint(_colours[i], text);
            if (_right[i])
                sb.Append(pad).Append(painted);
            else
                sb.Append(painted).Append(last ? "" : pad);
            if (!last)
                sb.Append("  ");
        }

        return sb.ToString().TrimEnd();
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Line(_headers, header: true));
        foreach (var row in _rows)
            sb.Append('\n').Append(Line(row));
        return sb.ToString();
    }
}
