namespace Floe.Export;

/// <summary>An export or query that cannot run as asked: the message names the option, array or file at fault.</summary>
public sealed class ExportException(string message, Exception? inner = null) : Exception(message, inner);
