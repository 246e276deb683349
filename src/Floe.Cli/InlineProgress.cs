namespace Floe.Cli;

/// <summary>Reports on the calling thread, one report at a time (Progress&lt;T&gt; would post to a thread pool and reorder lines).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly Lock _lock = new();

    public void Report(T value)
    {
        lock (_lock)
        {
            report(value);
        }
    }
}
