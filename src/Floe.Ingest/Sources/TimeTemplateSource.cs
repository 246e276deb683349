namespace Floe.Ingest.Sources;

/// <summary>
/// One file per fixed time step, named by a template: steps start at <c>start</c>, <c>start + step</c>, ... while
/// before <c>end</c> (exclusive). A file's ordinal is its step index and its time the step's start.
/// </summary>
/// <remarks>
/// Template tokens, all in UTC (a start with another offset is converted first):
/// <list type="bullet">
/// <item><c>{start:FORMAT}</c>: the step's start with a .NET custom date and time format (yyyy, MM, dd, HH, mm, ss, ...;
/// invariant culture). A one-character format is the custom specifier (<c>{start:d}</c> is the day without padding).</item>
/// <item><c>{end:FORMAT}</c>: the step's last second, start + step − 1 s, as IMERG names its files.</item>
/// <item><c>{doy}</c>: the day of year in 3 digits (001 to 366); a numeric format may follow, <c>{doy:0}</c>.</item>
/// <item><c>{minute}</c> or <c>{minute:0000}</c>: minutes since midnight, with an optional numeric format.</item>
/// <item><c>{{</c> and <c>}}</c>: literal braces.</item>
/// </list>
/// An unknown token or an unclosed brace throws <see cref="FormatException"/> naming the token and the template.
/// </remarks>
public sealed class TimeTemplateSource : SourceSet
{
    private readonly TimeTemplate _template;
    private readonly DateTimeOffset _start;
    private readonly TimeSpan _step;
    private readonly long _count;

    public TimeTemplateSource(string template, DateTimeOffset start, DateTimeOffset end, TimeSpan step)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(template);
        if (step <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The step must be positive, not {Durations.Format(step)}.", nameof(step));
        }

        if (end < start)
        {
            throw new ArgumentException(
                $"The end {TimeTemplates.FormatUtc(end)} is before the start {TimeTemplates.FormatUtc(start)}.", nameof(end));
        }

        _template = TimeTemplate.Parse(template);
        _start = start.ToUniversalTime();
        End = end.ToUniversalTime();
        _step = step;
        var span = (End - _start).Ticks;
        _count = (span / step.Ticks) + (span % step.Ticks == 0 ? 0 : 1);
    }

    public string Template => _template.Text;

    /// <summary>The exclusive end of the range, in UTC.</summary>
    public DateTimeOffset End { get; }

    public override string Description =>
        $"template {Template} from {TimeTemplates.FormatUtc(_start)} to {TimeTemplates.FormatUtc(End)} every {Durations.Format(_step)} ({Files(_count)})";

    public override long? Count => _count;

    public override DateTimeOffset? Start => _start;

    public override TimeSpan? Step => _step;

    public override IAsyncEnumerable<SourceFile> EnumerateAsync(long fromOrdinal = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromOrdinal);
        return Enumerate(fromOrdinal, cancellationToken).ToAsyncEnumerable();
    }

    /// <summary>The file of step <paramref name="ordinal"/>.</summary>
    internal SourceFile At(long ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(ordinal, _count);
        var time = _start.AddTicks(ordinal * _step.Ticks);
        return new SourceFile(_template.Expand(time.UtcDateTime, _step), ordinal, time);
    }

    private IEnumerable<SourceFile> Enumerate(long fromOrdinal, CancellationToken cancellationToken)
    {
        for (var i = fromOrdinal; i < _count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return At(i);
        }
    }
}
