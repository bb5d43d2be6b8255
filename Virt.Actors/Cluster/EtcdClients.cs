using System.Collections.Concurrent;
using Akka.Actor;
using dotnet_etcd;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;

namespace Virt.Actors.Cluster;

/// <summary>
/// One etcd client (one gRPC channel, balanced over the endpoints) per distinct connection setting in an actor system,
/// shared by every lease on it: sharding with <c>use-lease</c> has a lease per shard. Disposed when the system ends.
/// </summary>
internal sealed class EtcdClients : IExtension
{
    private readonly ConcurrentDictionary<string, Lazy<EtcdClient>> _clients = new(StringComparer.Ordinal);

    public EtcdClients(ActorSystem system) =>
        system.WhenTerminated.ContinueWith(_ =>
        {
            foreach (var client in _clients.Values.Where(c => c.IsValueCreated))
                client.Value.Dispose();
        }, TaskScheduler.Default);

    public static EtcdClients Get(ActorSystem system) => system.WithExtension<EtcdClients, EtcdClientsProvider>();

    public EtcdClient For(EtcdLeaseSettings settings)
    {
        var key = string.Join(',', settings.Endpoints) + "|" + settings.ConnectTimeout.Ticks + "|" + settings.Tls?.CaFile + "|" + settings.Tls?.CertFile;
        return _clients.GetOrAdd(key, _ => new Lazy<EtcdClient>(() => Create(settings))).Value;
    }

    private static EtcdClient Create(EtcdLeaseSettings settings)
    {
        var endpoints = string.Join(',', settings.Endpoints.Select(e => $"{e.Scheme}://{e.Authority}"));
        void Channel(GrpcChannelOptions options)
        {
            if (options.HttpHandler is SocketsHttpHandler handler)
                handler.ConnectTimeout = settings.ConnectTimeout;

            // Round robin over the members, without dotnet-etcd's default retries of Unavailable (up to 5, seconds
            // apart): a lease's callers retry on their own schedule, and a failure should say why, not time out.
            options.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } };
        }

        return settings.Tls is { } tls
            ? new EtcdClient(endpoints, ssl => tls.Configure(ssl, settings.Endpoints), configureChannelOptions: Channel)
            : new EtcdClient(endpoints, configureChannelOptions: Channel);
    }

    private sealed class EtcdClientsProvider : ExtensionIdProvider<EtcdClients>
    {
        public override EtcdClients CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
