using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Virt.Node.Api;

/// <summary>
/// Every error the API gives is problem+json, including those ASP.NET makes itself: an unknown path or method, a
/// body over the limit, a query value that does not bind.
/// </summary>
internal static class ApiErrors
{
    public static void Map(WebApplication app)
    {
        var limit = app.Services.GetService(typeof(Microsoft.Extensions.Options.IOptions<Hosting.ApiOptions>)) is Microsoft.Extensions.Options.IOptions<Hosting.ApiOptions> o ? o.Value.MaxBodyBytes : 0;
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Akka.Actor.AskTimeoutException) when (!context.Response.HasStarted)
            {
                var timeout = context.RequestServices.GetService(typeof(Microsoft.Extensions.Options.IOptions<Hosting.ApiOptions>)) is Microsoft.Extensions.Options.IOptions<Hosting.ApiOptions> api ? api.Value.Timeout : TimeSpan.Zero;
                await Problems.Timeout(timeout).ExecuteAsync(context);
            }
            catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
            {
                var problem = ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? Problems.TooLarge(limit)
                    : Problems.BadQuery("request", ex.Message);
                await problem.ExecuteAsync(context);
            }
        });
        app.UseStatusCodePages(async status =>
        {
            var context = status.HttpContext;
            if (context.Response.ContentLength is > 0 || context.Response.ContentType is not null)
                return;
            var request = context.Request;
            var problem = context.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => Problems.NoSuchEndpoint(request.Method, request.Path),
                StatusCodes.Status405MethodNotAllowed => Problems.MethodNotAllowed(request.Method, request.Path),
                StatusCodes.Status413PayloadTooLarge => Problems.TooLarge(limit),
                var code => Results.Problem(statusCode: code, detail: $"{request.Method} {request.Path} failed with {code}"),
            };
            await problem.ExecuteAsync(context);
        });
    }
}
