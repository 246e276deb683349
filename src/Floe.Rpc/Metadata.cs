using System.Collections;

namespace Floe.Rpc;

/// <summary>
/// Custom headers or trailers of a call: an ordered list of entries whose keys are lower-cased. Keys ending in
/// <c>-bin</c> carry bytes (base64 on the wire); other values are printable ASCII. Keys the protocol reserves
/// (<c>grpc-*</c>, <c>content-type</c>, <c>te</c>, HTTP/2 connection headers) are refused.
/// </summary>
public sealed class Metadata : IList<Metadata.Entry>
{
    public const string BinaryHeaderSuffix = "-bin";

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "content-type", "te", "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
        "content-length",
    };

    private readonly List<Entry> _entries = [];

    public int Count => _entries.Count;

    public bool IsReadOnly => false;

    public Entry this[int index]
    {
        get => _entries[index];
        set => _entries[index] = value;
    }

    public Metadata Add(string key, string value)
    {
        _entries.Add(new Entry(key, value));
        return this;
    }

    public Metadata Add(string key, byte[] valueBytes)
    {
        _entries.Add(new Entry(key, valueBytes));
        return this;
    }

    public void Add(Entry item) => _entries.Add(item);

    /// <summary>The last entry with this key, or null.</summary>
    public Entry? Get(string key)
    {
        var normalized = key.ToLowerInvariant();
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Key == normalized)
            {
                return _entries[i];
            }
        }

        return null;
    }

    public IEnumerable<Entry> GetAll(string key)
    {
        var normalized = key.ToLowerInvariant();
        return _entries.Where(e => e.Key == normalized);
    }

    /// <summary>The string value of the last entry with this key, or null; throws for a binary key.</summary>
    public string? GetValue(string key) => Get(key)?.Value;

    /// <summary>The bytes of the last entry with this key, or null; throws for a non-binary key.</summary>
    public byte[]? GetValueBytes(string key) => Get(key)?.ValueBytes;

    public void Clear() => _entries.Clear();

    public bool Contains(Entry item) => _entries.Contains(item);

    public void CopyTo(Entry[] array, int arrayIndex) => _entries.CopyTo(array, arrayIndex);

    public int IndexOf(Entry item) => _entries.IndexOf(item);

    public void Insert(int index, Entry item) => _entries.Insert(index, item);

    public bool Remove(Entry item) => _entries.Remove(item);

    public void RemoveAt(int index) => _entries.RemoveAt(index);

    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Whether a header of this name is one the protocol itself uses, so it cannot be custom metadata.</summary>
    public static bool IsReservedKey(string key) =>
        key.StartsWith("grpc-", StringComparison.Ordinal) || key.StartsWith(':') || Reserved.Contains(key);

    internal static string NormalizeKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var normalized = key.ToLowerInvariant();
        foreach (var c in normalized)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.'))
            {
                throw new ArgumentException($"Metadata key \"{key}\" contains '{c}'; only 0-9 a-z - _ . are allowed.", nameof(key));
            }
        }

        if (IsReservedKey(normalized))
        {
            throw new ArgumentException($"Metadata key \"{key}\" is reserved by the gRPC protocol.", nameof(key));
        }

        return normalized;
    }

    /// <summary>Decodes a base64 header value, padded or not; several comma-separated values are concatenated.</summary>
    internal static byte[] DecodeBinaryValue(string wireValue)
    {
        var parts = wireValue.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        using var result = new MemoryStream();
        foreach (var part in parts)
        {
            var padded = part.TrimEnd('=');
            padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => throw new FormatException("Invalid base64 length.") };
            var bytes = Convert.FromBase64String(padded);
            result.Write(bytes);
        }

        return result.ToArray();
    }

    /// <summary>One key and its value, either a string or (for <c>-bin</c> keys) bytes.</summary>
    public sealed class Entry
    {
        private readonly string? _value;
        private readonly byte[]? _valueBytes;

        public Entry(string key, string value)
        {
            Key = NormalizeKey(key);
            ArgumentNullException.ThrowIfNull(value);
            if (IsBinary)
            {
                throw new ArgumentException($"Metadata key \"{key}\" ends in -bin, so its value must be bytes.", nameof(value));
            }

            foreach (var c in value)
            {
                if (c is < ' ' or > '~')
                {
                    throw new ArgumentException($"Metadata value for \"{key}\" must be printable ASCII.", nameof(value));
                }
            }

            _value = value;
        }

        public Entry(string key, byte[] valueBytes)
        {
            Key = NormalizeKey(key);
            ArgumentNullException.ThrowIfNull(valueBytes);
            if (!IsBinary)
            {
                throw new ArgumentException($"Metadata key \"{key}\" carries bytes, so it must end in -bin.", nameof(key));
            }

            _valueBytes = (byte[])valueBytes.Clone();
        }

        public string Key { get; }

        public bool IsBinary => Key.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal);

        public string Value => _value ?? throw new InvalidOperationException($"Metadata key \"{Key}\" is binary; use ValueBytes.");

        public byte[] ValueBytes => _valueBytes is null
            ? throw new InvalidOperationException($"Metadata key \"{Key}\" is not binary; use Value.")
            : (byte[])_valueBytes.Clone();

        /// <summary>The value as sent in an HTTP/2 header: as is, or unpadded base64 for binary keys.</summary>
        public string WireValue => _valueBytes is null ? _value! : Convert.ToBase64String(_valueBytes).TrimEnd('=');

        /// <summary>Builds an entry from a received header; null when the header is not custom metadata.</summary>
        internal static Entry? FromWire(string name, string value)
        {
            var key = name.ToLowerInvariant();
            if (IsReservedKey(key))
            {
                return null;
            }

            try
            {
                return key.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal)
                    ? new Entry(key, DecodeBinaryValue(value))
                    : new Entry(key, value);
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                return null;
            }
        }

        public override string ToString() =>
            _valueBytes is null ? $"{Key}: {_value}" : $"{Key}: [{_valueBytes.Length} bytes]";
    }
}
