using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Virt.Actors.Cluster;
using Virt.Actors.Persistence.Sqlite;
using Virt.Actors.Vm;
using Virt.Node.Agent;
using Virt.Node.Api;

namespace Virt.Node.Hosting;

/// <summary>Composition root of virt-node: options, runtime, HTTP API; turns start-up failures into clear messages.</summary>
internal static class NodeDaemon
{
    public static async Task<int> RunAsync(IConfiguration configuration, CancellationToken cancellationToken)
    {
        WebApplication app;
        try
        {
            app = Build(configuration);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync($"virt-node: configuration error: {ex.Message}");
            return 2;
        }
        catch (InvalidOperationException ex) when (ex.InnerException is FormatException inner)
        {
            await Console.Error.WriteLineAsync($"virt-node: configuration error: {ex.Message} {inner.Message}");
            return 2;
        }

        await using (app)
        {
            try
            {
                await app.RunAsync(cancellationToken);
                return 0;
            }
            catch (StartupException ex)
            {
                await Console.Error.WriteLineAsync($"virt-node: {ex.Message}");
                return 2;
            }
            catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await Console.Error.WriteLineAsync($"virt-node: cannot listen on {configuration["virt:api:listen"]}: the address is in use; is another virt-node running? Set virt.api.listen to another port");
                return 2;
            }
        }
    }

    public static WebApplication Build(IConfiguration configuration, Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // A failed start comes out of RunAsync as an exception and is printed once, plainly, by RunAsync's caller.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Services.Configure<NodeOptions>(configuration.GetSection("virt"));
        builder.Services.Configure<SqlitePersistenceOptions>(configuration.GetSection("virt:persistence:sqlite"));
        builder.Services.Configure<LibvirtOptions>(configuration.GetSection("virt:libvirt"));
        builder.Services.Configure<VmDefaults>(configuration.GetSection("virt:vm"));
        builder.Services.Configure<ApiOptions>(configuration.GetSection("virt:api"));
        builder.Services.Configure<ClusterOptions>(configuration.GetSection("virt:cluster"));
        builder.Services.PostConfigure<ClusterOptions>(o => o.Etcd.Endpoints = EtcdEndpoints(configuration, o.Etcd.Endpoints));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<NodeRuntime>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeRuntime>());
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            foreach (var converter in ApiJson.Options.Converters)
                o.SerializerOptions.Converters.Add(converter);
        });
        configure?.Invoke(builder.Services);

        var endpoint = configuration.GetSection("virt:api").Get<ApiOptions>()?.Endpoint() ?? new ApiOptions().Endpoint();
        builder.WebHost.ConfigureKestrel(k => k.Listen(endpoint));

        var app = builder.Build();
        VmEndpoints.Map(app);
        NodeEndpoints.Map(app);
        ClusterEndpoints.Map(app);
        EventEndpoints.Map(app);
        PaletteEndpoints.Map(app);
        return app;
    }

    /// <summary>A list, or one string of comma-separated URLs (what <c>VIRT_ETCD_ENDPOINTS</c> or a quick <c>--set</c> gives).</summary>
    private static List<string> EtcdEndpoints(IConfiguration configuration, List<string> bound) =>
        configuration["virt:cluster:etcd:endpoints"] is { Length: > 0 } text
            ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()
            : bound;
}
