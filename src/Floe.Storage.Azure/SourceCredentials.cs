using System.Text.Json;

namespace Floe.Storage.Azure;

/// <summary>
/// Source credentials from a JSON file: <c>[{"prefix": "az://archive/", "connectionString": "..."}, …]</c>.
/// The CLI and the server read the file $FLOE_SOURCE_CREDENTIALS names (a mounted Kubernetes Secret, say); the server
/// also takes them from its configuration (Floe:Sources:Credentials).
/// </summary>
public static class SourceCredentials
{
    /// <summary>The environment variable naming the credentials file.</summary>
    public const string FileVariable = "FLOE_SOURCE_CREDENTIALS";

    /// <summary>Reads a credentials file; errors name the file and the entry, never a secret.</summary>
    public static IReadOnlyList<SourceCredential> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new ArgumentException($"{path}: cannot read source credentials: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new ArgumentException($"{path}: expected a JSON array of {{\"prefix\", \"connectionString\"}} objects");
            }

            var credentials = new List<SourceCredential>();
            var index = 0;
            foreach (var entry in document.RootElement.EnumerateArray())
            {
                string Field(string name) =>
                    entry.ValueKind == JsonValueKind.Object && entry.EnumerateObject().FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value is
                    { ValueKind: JsonValueKind.String } value && value.GetString() is { Length: > 0 } text
                        ? text
                        : throw new ArgumentException($"{path}: entry {index}: \"{name}\" (a non-empty string) is required");

                credentials.Add(new SourceCredential(Field("prefix"), Field("connectionString")));
                index++;
            }

            return credentials;
        }
    }

    /// <summary>The credentials of $FLOE_SOURCE_CREDENTIALS, or none when it is not set.</summary>
    public static IReadOnlyList<SourceCredential> FromEnvironment() =>
        Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } path ? Load(path) : [];
}
