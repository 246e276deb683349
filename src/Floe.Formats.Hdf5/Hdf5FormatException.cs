namespace Floe.Formats.Hdf5;

/// <summary>
/// A file is not valid HDF5, or uses something this reader refuses. The message names the file, the object path
/// (where known) and the byte offset of the structure that failed.
/// </summary>
public class Hdf5FormatException(string location, string? objectPath, long offset, string message, Exception? inner = null)
    : Exception($"{location}: {(string.IsNullOrEmpty(objectPath) ? "" : objectPath + ": ")}{message} (at byte {offset})", inner)
{
    public string Location { get; } = location;

    public string? ObjectPath { get; } = objectPath;

    /// <summary>File offset of the structure or field that failed, or -1 when none applies.</summary>
    public long Offset { get; } = offset;

    /// <summary>The message without the location, path and offset.</summary>
    public string Reason { get; } = message;
}

/// <summary>A valid file uses a feature this reader does not support (a filter, datatype or message version).</summary>
public sealed class Hdf5NotSupportedException(string location, string? objectPath, long offset, string message)
    : Hdf5FormatException(location, objectPath, offset, message);
