using System.Globalization;
using System.Text;

namespace Floe.Ingest.Sources;

/// <summary>A parsed time template (tokens documented on <see cref="TimeTemplateSource"/>), expanded once per step.</summary>
internal sealed class TimeTemplate
{
    private enum Kind
    {
        Literal,
        Start,
        End,
        DayOfYear,
        Minute,
    }

    private readonly record struct Part(Kind Kind, string Text);

    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    private readonly Part[] _parts;

    private TimeTemplate(string text, Part[] parts)
    {
        Text = text;
        _parts = parts;
    }

    public string Text { get; }

    /// <summary>Parses <paramref name="template"/>; an unknown token or an unclosed brace throws <see cref="FormatException"/>.</summary>
    public static TimeTemplate Parse(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var parts = new List<Part>();
        var literal = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '}')
            {
                if (i + 1 < template.Length && template[i + 1] == '}')
                {
                    literal.Append('}');
                    i++;
                    continue;
                }

                throw new FormatException($"Unmatched '}}' at position {i} in template '{template}' (write '}}}}' for a literal brace).");
            }

            if (c != '{')
            {
                literal.Append(c);
                continue;
            }

            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                literal.Append('{');
                i++;
                continue;
            }

            var close = template.IndexOf('}', i + 1);
            var reopen = template.IndexOf('{', i + 1);
            if (close < 0 || (reopen >= 0 && reopen < close))
            {
                var fragment = template[i..(reopen >= 0 && (close < 0 || reopen < close) ? reopen : template.Length)];
                throw new FormatException($"Unclosed token '{fragment}' at position {i} in template '{template}' (write '{{{{' for a literal brace).");
            }

            if (literal.Length > 0)
            {
                parts.Add(new Part(Kind.Literal, literal.ToString()));
                literal.Clear();
            }

            parts.Add(ParseToken(template[(i + 1)..close], template));
            i = close;
        }

        if (literal.Length > 0)
        {
            parts.Add(new Part(Kind.Literal, literal.ToString()));
        }

        return new TimeTemplate(template, [.. parts]);
    }

    /// <summary>The name of the file whose step starts at <paramref name="startUtc"/>.</summary>
    public string Expand(DateTime startUtc, TimeSpan step)
    {
        // IMERG names a file by its last second: 00:00:00 to 00:29:59.
        var end = step > OneSecond ? startUtc + step - OneSecond : startUtc;
        var name = new StringBuilder(Text.Length + 16);
        foreach (var part in _parts)
        {
            switch (part.Kind)
            {
                case Kind.Literal:
                    name.Append(part.Text);
                    break;
                case Kind.Start:
                    name.Append(startUtc.ToString(part.Text, CultureInfo.InvariantCulture));
                    break;
                case Kind.End:
                    name.Append(end.ToString(part.Text, CultureInfo.InvariantCulture));
                    break;
                case Kind.DayOfYear:
                    name.Append(startUtc.DayOfYear.ToString(part.Text, CultureInfo.InvariantCulture));
                    break;
                case Kind.Minute:
                    name.Append(((startUtc.Hour * 60) + startUtc.Minute).ToString(part.Text, CultureInfo.InvariantCulture));
                    break;
            }
        }

        return name.ToString();
    }

    private static Part ParseToken(string token, string template)
    {
        var colon = token.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? token : token[..colon];
        var format = colon < 0 ? null : token[(colon + 1)..];
        var (kind, defaultFormat) = name switch
        {
            "start" => (Kind.Start, null),
            "end" => (Kind.End, null),
            "doy" => (Kind.DayOfYear, "000"),
            "minute" => (Kind.Minute, "0"),
            _ => throw new FormatException(
                $"Unknown token '{{{token}}}' in template '{template}'; the tokens are {{start:FORMAT}}, {{end:FORMAT}}, {{doy}} and {{minute}}, and '{{{{' and '}}}}' write braces."),
        };

        if (string.IsNullOrEmpty(format))
        {
            return defaultFormat is not null
                ? new Part(kind, defaultFormat)
                : throw new FormatException($"Token '{{{token}}}' in template '{template}' needs a date format, e.g. '{{{name}:yyyyMMdd}}'.");
        }

        // One character alone would be a standard format ("d" is a whole short date): read it as the custom specifier.
        if (kind is Kind.Start or Kind.End && format.Length == 1)
        {
            format = "%" + format;
        }

        try
        {
            _ = kind is Kind.Start or Kind.End
                ? DateTime.UnixEpoch.ToString(format, CultureInfo.InvariantCulture)
                : 1.ToString(format, CultureInfo.InvariantCulture);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"Token '{{{token}}}' in template '{template}' has an invalid format: {ex.Message}", ex);
        }

        return new Part(kind, format);
    }
}
