namespace Virt.Actors.Runtime;

/// <summary>
/// Stashing. The user stash belongs to the actor's code; the internal stash is used by the runtime itself
/// (persistence holds commands there during recovery and writes) so the two never mix. Both live in the cell,
/// not the actor instance, so a restart puts every stashed message back in front of the mailbox.
/// </summary>
internal sealed partial class ActorCell
{
    private List<Envelope>? _stash;
    private List<Envelope>? _internalStash;
    private Queue<Envelope>? _front;

    private bool HasFrontMessages => _front is { Count: > 0 };

    public void Stash()
    {
        if (_current.Message is null)
            throw new InvalidOperationException($"Stash() called outside a message handler of {Path}");
        (_stash ??= new List<Envelope>()).Add(_current);
    }

    public void UnstashAll() => Prepend(_stash);

    internal void StashInternal()
    {
        if (_current.Message is not null)
            (_internalStash ??= new List<Envelope>()).Add(_current);
    }

    internal void UnstashAllInternal() => Prepend(_internalStash);

    private void UnstashEverything()
    {
        Prepend(_stash);
        Prepend(_internalStash);
    }

    private void Prepend(List<Envelope>? stashed)
    {
        if (stashed is not { Count: > 0 })
            return;
        var front = new Queue<Envelope>(stashed.Count + (_front?.Count ?? 0));
        foreach (var envelope in stashed)
            front.Enqueue(envelope);
        if (_front is not null)
        {
            foreach (var envelope in _front)
                front.Enqueue(envelope);
        }

        stashed.Clear();
        _front = front;
    }

    private bool TryNextUserMessage(out Envelope envelope)
    {
        if (_front is { Count: > 0 } front)
        {
            envelope = front.Dequeue();
            return true;
        }

        return _mailbox.TryDequeue(out envelope);
    }

    private List<Envelope> TakeStashAndFront()
    {
        var all = new List<Envelope>();
        UnstashEverything();
        if (_front is not null)
        {
            all.AddRange(_front);
            _front = null;
        }

        return all;
    }
}
