using Floe.Api.V1;
using Floe.Grains;
using Floe.Rpc.Server;
using Floe.Server.Grains;
using Microsoft.Extensions.Logging;

namespace Floe.Server.Services;

/// <summary>floe.v1.ExportService (docs/api.md): export jobs run by export grains.</summary>
public sealed class ExportService(RepositoryCatalog catalog, IGrainFactory grains, ILogger<ExportService> logger)
    : ServiceBase(catalog, grains, logger)
{
    public RpcServiceDefinition Bind() => RpcServiceDefinition.CreateBuilder()
        .AddMethod(ExportServiceMethods.StartExport, Unary<StartExportRequest, ExportStatus>(StartAsync))
        .AddMethod(ExportServiceMethods.GetExport, Unary<ExportRequest, ExportStatus>(GetAsync))
        .AddMethod(ExportServiceMethods.WatchExport, ServerStreaming<ExportRequest, ExportStatus>(WatchAsync))
        .AddMethod(ExportServiceMethods.CancelExport, Unary<ExportRequest, ExportStatus>(CancelAsync))
        .Build();

    private async Task<ExportStatus> StartAsync(StartExportRequest request, ServerCallContext context)
    {
        Require(context, Permission.Write, request.Repository);
        await Catalog.OpenAsync(request.Repository, context.CancellationToken);
        return await Grains.GetGrain<IExportGrain>(ExportGrain.JobId(request)).StartAsync(request, context.CancellationToken);
    }

    private async Task<ExportStatus> GetAsync(ExportRequest request, ServerCallContext context) =>
        await StatusAsync(request, context, Permission.Read);

    private async Task WatchAsync(ExportRequest request, IServerStreamWriter<ExportStatus> stream, ServerCallContext context)
    {
        var status = await StatusAsync(request, context, Permission.Read);
        var job = Job(request);
        await stream.WriteAsync(status);
        while (status.State == ExportState.Running)
        {
            status = await job.WaitForChangeAsync(status.Version, context.CancellationToken);
            await stream.WriteAsync(status);
        }
    }

    private async Task<ExportStatus> CancelAsync(ExportRequest request, ServerCallContext context)
    {
        await StatusAsync(request, context, Permission.Write);
        return await Job(request).CancelAsync(context.CancellationToken);
    }

    private async Task<ExportStatus> StatusAsync(ExportRequest request, ServerCallContext context, Permission permission)
    {
        var status = await Job(request).GetStatusAsync(context.CancellationToken);
        Require(context, permission, status.Repository);
        return status;
    }

    private IExportGrain Job(ExportRequest request) =>
        request.JobId.StartsWith("export-", StringComparison.Ordinal) && request.JobId.Length == 23
            ? Grains.GetGrain<IExportGrain>(request.JobId)
            : throw Errors.InvalidArgument("job_id", request.JobId.Length == 0 ? "required" : $"\"{request.JobId}\" is not a job id");
}
