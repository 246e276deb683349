using System.Net.Http.Headers;
using System.Text;

namespace Floe.Storage;

/// <summary>
/// Parses a multipart/byteranges body (RFC 9110 section 14.6, framed as RFC 2046 multipart): parts separated by
/// "--boundary" lines, each with a Content-Range header and exactly that many bytes of content.
/// </summary>
internal static class MultipartByteRanges
{
    public static (List<(long From, byte[] Data)> Parts, long Total) Parse(byte[] body, string boundary, string location)
    {
        var delimiter = Encoding.ASCII.GetBytes("--" + boundary);
        var parts = new List<(long, byte[])>();
        long total = -1;
        var at = body.AsSpan().IndexOf(delimiter);
        if (at < 0)
        {
            throw Error(location, "has no boundary line");
        }

        while (true)
        {
            var p = at + delimiter.Length;
            if (p + 2 <= body.Length && body[p] == '-' && body[p + 1] == '-')
            {
                return (parts, total);
            }

            p = AfterLine(body, p, location);
            long from = -1, to = -1;
            while (true)
            {
                var end = body.AsSpan(p).IndexOf((byte)'\n');
                if (end < 0)
                {
                    throw Error(location, $"part {parts.Count + 1} has unterminated headers");
                }

                var line = Encoding.ASCII.GetString(body, p, end).TrimEnd('\r');
                p += end + 1;
                if (line.Length == 0)
                {
                    break;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && string.Equals(line[..colon].Trim(), "Content-Range", StringComparison.OrdinalIgnoreCase))
                {
                    var value = line[(colon + 1)..].Trim();
                    if (!ContentRangeHeaderValue.TryParse(value, out var range) || range is not { HasRange: true, From: { } a, To: { } b } || b < a)
                    {
                        throw Error(location, $"part {parts.Count + 1} has the Content-Range \"{value}\"");
                    }

                    (from, to) = (a, b);
                    total = range.Length ?? total;
                }
            }

            if (from < 0)
            {
                throw Error(location, $"part {parts.Count + 1} has no Content-Range");
            }

            var length = to - from + 1;
            if (length > body.Length - p)
            {
                throw Error(location, $"part {parts.Count + 1} (bytes {from}-{to}) is cut short");
            }

            parts.Add((from, body.AsSpan(p, (int)length).ToArray()));
            p += (int)length;
            var next = body.AsSpan(p).IndexOf(delimiter);
            if (next < 0)
            {
                throw Error(location, "ends without its closing boundary");
            }

            at = p + next;
        }
    }

    // The index after the rest of the current line (transport padding and CRLF after a boundary).
    private static int AfterLine(byte[] body, int p, string location)
    {
        var end = body.AsSpan(p).IndexOf((byte)'\n');
        return end < 0 ? throw Error(location, "ends inside a boundary line") : p + end + 1;
    }

    private static SourceReadException Error(string location, string what) => new(location, $"multipart/byteranges answer {what}");
}
