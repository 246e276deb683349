namespace Floe.Core;

/// <summary>A chunk could not be encoded or decoded (corrupt data, checksum mismatch, wrong length).</summary>
public class CodecException(string message, Exception? inner = null) : Exception(message, inner);
