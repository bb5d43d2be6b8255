using Microsoft.AspNetCore.Http;
using Virt.Actors.Vm;

namespace Virt.Node.Api;

/// <summary>
/// <c>?label=app=web&amp;label=tier=front</c>: the VMs that have every one of these labels. A selector that is not
/// KEY=VALUE is a 400 that says so.
/// </summary>
internal sealed record LabelSelector(IReadOnlyList<(string Key, string Value)> Labels)
{
    public bool IsEmpty => Labels.Count == 0;

    public bool Matches(VmSpec spec) => Labels.All(l => spec.HasLabel(l.Key, l.Value));

    public override string ToString() => string.Join(",", Labels.Select(l => $"{l.Key}={l.Value}"));

    public static (LabelSelector Selector, IResult? Error) From(HttpRequest request)
    {
        var labels = new List<(string, string)>();
        foreach (var text in request.Query["label"])
        {
            var equals = text?.IndexOf('=') ?? -1;
            if (text is null || equals <= 0)
                return (new LabelSelector([]), Problems.BadQuery("label", $"'{text}' is not KEY=VALUE, like app=web"));
            var (key, value) = (text[..equals], text[(equals + 1)..]);
            if (VmSpecValidator.LabelProblem(key, value) is { } problem)
                return (new LabelSelector([]), Problems.BadQuery("label", problem));
            labels.Add((key, value));
        }

        return (new LabelSelector(labels), null);
    }
}
