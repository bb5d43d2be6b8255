using System.Text;

namespace Virt.Shell.Interactive;

/// <summary>The line being edited and the cursor in it; every edit is a plain method, so the editor's keys are easy to follow and to test.</summary>
internal sealed class LineState
{
    private readonly StringBuilder _text = new();

    public string Text => _text.ToString();

    public int Cursor { get; private set; }

    public int Length => _text.Length;

    public void Set(string text, int? cursor = null)
    {
        _text.Clear().Append(text);
        Cursor = Math.Clamp(cursor ?? text.Length, 0, text.Length);
    }

    public void Insert(string s)
    {
        _text.Insert(Cursor, s);
        Cursor += s.Length;
    }

    public void Replace(int start, string s)
    {
        _text.Remove(start, Cursor - start).Insert(start, s);
        Cursor = start + s.Length;
    }

    public void DeleteBack()
    {
        if (Cursor == 0)
            return;
        _text.Remove(--Cursor, 1);
    }

    public void DeleteForward()
    {
        if (Cursor < _text.Length)
            _text.Remove(Cursor, 1);
    }

    public void Move(int to) => Cursor = Math.Clamp(to, 0, _text.Length);

    public void KillToEnd() => _text.Remove(Cursor, _text.Length - Cursor);

    public void KillToStart()
    {
        _text.Remove(0, Cursor);
        Cursor = 0;
    }

    public void KillWordBack()
    {
        var start = WordStart();
        _text.Remove(start, Cursor - start);
        Cursor = start;
    }

    public int WordStart()
    {
        var i = Cursor;
        while (i > 0 && _text[i - 1] == ' ')
            i--;
        while (i > 0 && _text[i - 1] != ' ')
            i--;
        return i;
    }

    public int WordEnd()
    {
        var i = Cursor;
        while (i < _text.Length && _text[i] == ' ')
            i++;
        while (i < _text.Length && _text[i] != ' ')
            i++;
        return i;
    }
}
