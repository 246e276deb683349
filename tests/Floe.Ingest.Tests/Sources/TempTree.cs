namespace Floe.Ingest.Tests.Sources;

/// <summary>A temporary directory of empty files, removed on dispose.</summary>
internal sealed class TempTree : IDisposable
{
    public TempTree(params string[] files)
    {
        Root = Path.Combine(Path.GetTempPath(), "floe-sources-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        foreach (var file in files)
        {
            Add(file);
        }
    }

    public string Root { get; }

    public string Add(string relative, string content = "")
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public string this[string relative] => Path.Combine(Root, relative);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
