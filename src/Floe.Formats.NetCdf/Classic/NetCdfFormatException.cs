namespace Floe.Formats.NetCdf;

/// <summary>
/// A file is not a valid NetCDF file, or is damaged. The message names the file, the object (a dimension, variable
/// or attribute, where known) and the byte offset of the field that failed.
/// </summary>
public class NetCdfFormatException(string location, string? objectName, long offset, string message, Exception? inner = null)
    : Exception($"{location}: {(string.IsNullOrEmpty(objectName) ? "" : objectName + ": ")}{message} (at byte {offset})", inner)
{
    /// <summary>The file's location as given to the reader.</summary>
    public string Location { get; } = location;

    /// <summary>The object being read, such as <c>variable "tp"</c>, or null for the file's own fields.</summary>
    public string? ObjectName { get; } = objectName;

    /// <summary>File offset of the field that failed.</summary>
    public long Offset { get; } = offset;

    /// <summary>The message without the location, object and offset.</summary>
    public string Reason { get; } = message;
}
