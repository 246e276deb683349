namespace Floe.Ingest.Sources;

/// <summary>Builds the source set that the command line's options describe.</summary>
public static class SourceSets
{
    private const string ImergPreset = "imerg:";
    private const string Era5Preset = "era5:";

    /// <summary>
    /// Exactly one of <paramref name="files"/> (the file arguments), <paramref name="listFile"/> (--list-file),
    /// <paramref name="glob"/> (--glob) or <paramref name="template"/> (--template, with --start, --end and --every; the
    /// presets "imerg:ROOT" and "era5:ROOT" bring their own step). <paramref name="standIn"/> (--stand-in), a glob or
    /// a directory of physical files, wraps the set in a <see cref="StandInSource"/>. Errors name the option.
    /// </summary>
    public static SourceSet Create(
        IReadOnlyList<string>? files,
        string? listFile,
        string? glob,
        string? template,
        DateTimeOffset? start,
        DateTimeOffset? end,
        TimeSpan? step,
        string? standIn)
    {
        var given = new List<string>();
        if (files is { Count: > 0 })
        {
            given.Add("file arguments");
        }

        if (listFile is not null)
        {
            given.Add("--list-file");
        }

        if (glob is not null)
        {
            given.Add("--glob");
        }

        if (template is not null)
        {
            given.Add("--template");
        }

        if (given.Count != 1)
        {
            throw new ArgumentException(given.Count == 0
                ? "Give the files to ingest as arguments or with one of --list-file, --glob or --template."
                : $"Give only one of {string.Join(", ", given)}.");
        }

        if (template is null && (start is not null || end is not null || step is not null))
        {
            throw new ArgumentException("--start, --end and --every go with --template only.");
        }

        SourceSet logical = given[0] switch
        {
            "file arguments" => new ListSource(files!),
            "--list-file" => FromListFile(listFile!),
            "--glob" => FromGlob(glob!, "--glob"),
            _ => FromTemplate(template!, start, end, step),
        };

        if (standIn is null)
        {
            return logical;
        }

        List<string> physical = Directory.Exists(standIn)
            ? [.. Directory.EnumerateFiles(standIn).Select(Path.GetFullPath).Order(StringComparer.Ordinal)]
            : FromGlob(standIn, "--stand-in").EnumeratePaths().ToList();
        return physical.Count > 0
            ? new StandInSource(logical, physical)
            : throw new ArgumentException($"--stand-in '{standIn}' matches no files.");
    }

    private static ListSource FromListFile(string listFile)
    {
        if (!File.Exists(listFile))
        {
            throw new ArgumentException($"--list-file '{listFile}' does not exist.");
        }

        return ListSource.FromLines(File.ReadLines(listFile), listFile);
    }

    private static GlobSource FromGlob(string pattern, string option)
    {
        try
        {
            return new GlobSource(pattern);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"{option}: {Message(ex)}", ex);
        }
    }

    private static TimeTemplateSource FromTemplate(string template, DateTimeOffset? start, DateTimeOffset? end, TimeSpan? step)
    {
        if (start is null || end is null)
        {
            throw new ArgumentException("--template needs --start and --end.");
        }

        if (template.StartsWith(ImergPreset, StringComparison.OrdinalIgnoreCase))
        {
            template = TimeTemplates.Imerg(PresetRoot(template, ImergPreset));
            step ??= TimeTemplates.ImergStep;
        }
        else if (template.StartsWith(Era5Preset, StringComparison.OrdinalIgnoreCase))
        {
            template = TimeTemplates.Era5(PresetRoot(template, Era5Preset));
            step ??= TimeTemplates.Era5Step;
        }

        if (step is null)
        {
            throw new ArgumentException("--template needs --every (e.g. 30m or 1d) unless it is a preset, imerg:ROOT or era5:ROOT.");
        }

        if (step <= TimeSpan.Zero)
        {
            throw new ArgumentException($"--every must be positive, not {Durations.Format(step.Value)}.");
        }

        if (end < start)
        {
            throw new ArgumentException(
                $"--end {TimeTemplates.FormatUtc(end.Value)} is before --start {TimeTemplates.FormatUtc(start.Value)}.");
        }

        try
        {
            return new TimeTemplateSource(template, start.Value, end.Value, step.Value);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new ArgumentException($"--template: {Message(ex)}", ex);
        }
    }

    private static string PresetRoot(string template, string preset)
    {
        var root = template[preset.Length..];
        return string.IsNullOrWhiteSpace(root)
            ? throw new ArgumentException($"--template {preset}ROOT needs a root, e.g. {preset}s3://bucket/prefix.")
            : root;
    }

    // ArgumentException appends " (Parameter 'x')", which means nothing to someone typing options.
    private static string Message(Exception ex) => ex is ArgumentException { ParamName: { } name } argument
        ? argument.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
        : ex.Message;
}
