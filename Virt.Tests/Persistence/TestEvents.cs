using Virt.Actors.Persistence;

namespace Virt.Tests.Persistence;

public sealed record TestEvent(string Value, int N);

public sealed record TestSnapshot(int Total, List<string> Values);

public static class TestSerializer
{
    public static EventSerializer Create() => new EventSerializer()
        .Register<TestEvent>("test.event.v1")
        .Register<TestSnapshot>("test.snapshot.v1")
        .Register<int>("int.v1")
        .Register<string>("string.v1");
}
