using Floe.Api.V1;
using Floe.Grains;
using Floe.Rpc.Server;
using Floe.Server.Grains;
using Microsoft.Extensions.Logging;

namespace Floe.Server.Services;

/// <summary>floe.v1.IngestionService (docs/api.md): ingestion jobs run by ingestion grains.</summary>
public sealed class IngestionService(RepositoryCatalog catalog, IGrainFactory grains, ILogger<IngestionService> logger)
    : ServiceBase(catalog, grains, logger)
{
    public RpcServiceDefinition Bind() => RpcServiceDefinition.CreateBuilder()
        .AddMethod(IngestionServiceMethods.StartIngestion, Unary<StartIngestionRequest, IngestionStatus>(StartAsync))
        .AddMethod(IngestionServiceMethods.GetIngestion, Unary<IngestionRequest, IngestionStatus>(GetAsync))
        .AddMethod(IngestionServiceMethods.WatchIngestion, ServerStreaming<IngestionRequest, IngestionStatus>(WatchAsync))
        .AddMethod(IngestionServiceMethods.CancelIngestion, Unary<IngestionRequest, IngestionStatus>(CancelAsync))
        .Build();

    private async Task<IngestionStatus> StartAsync(StartIngestionRequest request, ServerCallContext context)
    {
        Require(context, Permission.Write, request.Repository);
        await Catalog.OpenAsync(request.Repository, context.CancellationToken);
        return await Grains.GetGrain<IIngestionGrain>(IngestionGrain.JobId(request)).StartAsync(request, context.CancellationToken);
    }

    private async Task<IngestionStatus> GetAsync(IngestionRequest request, ServerCallContext context) =>
        await StatusAsync(request, context, Permission.Read);

    private async Task WatchAsync(IngestionRequest request, IServerStreamWriter<IngestionStatus> stream, ServerCallContext context)
    {
        var status = await StatusAsync(request, context, Permission.Read);
        var job = Job(request);
        await stream.WriteAsync(status);
        while (status.State == IngestionState.Running)
        {
            status = await job.WaitForChangeAsync(status.Version, context.CancellationToken);
            await stream.WriteAsync(status);
        }
    }

    private async Task<IngestionStatus> CancelAsync(IngestionRequest request, ServerCallContext context)
    {
        await StatusAsync(request, context, Permission.Write);
        return await Job(request).CancelAsync(context.CancellationToken);
    }

    private async Task<IngestionStatus> StatusAsync(IngestionRequest request, ServerCallContext context, Permission permission)
    {
        var status = await Job(request).GetStatusAsync(context.CancellationToken);
        Require(context, permission, status.Repository);
        return status;
    }

    private IIngestionGrain Job(IngestionRequest request) =>
        request.JobId.StartsWith("ingest-", StringComparison.Ordinal) && request.JobId.Length == 23
            ? Grains.GetGrain<IIngestionGrain>(request.JobId)
            : throw Errors.InvalidArgument("job_id", request.JobId.Length == 0 ? "required" : $"\"{request.JobId}\" is not a job id");
}
