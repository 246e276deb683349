using System.Text;

namespace Floe.Storage.Azure.Tests;

[Collection("azurite")]
public sealed class ObjectStoreLocationTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task An_az_location_and_the_same_container_as_a_url_open_the_same_objects()
    {
        var container = azurite.NewContainer();
        var byName = ObjectStoreLocation.Open($"az://{container}/stores/one", azurite.ConnectionString);
        var byUrl = ObjectStoreLocation.Open($"{azurite.Server.BlobEndpoint}/{container}/stores/one/", azurite.ConnectionString);

        await byName.PutAsync("refs/main", Encoding.UTF8.GetBytes("x"));

        Assert.Equal("x", Encoding.UTF8.GetString((await byUrl.GetAsync("refs/main"))!.Data.Span));
        Assert.Equal(["refs/main"], (await byUrl.ListAsync("")).Keys);
        Assert.Equal("stores/one/", ((AzureBlobObjectStore)byName).Prefix);
        Assert.StartsWith($"az://{container}/stores/one/ ", byName.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_opens_the_filesystem_store()
    {
        var directory = Directory.CreateTempSubdirectory("floe-location-").FullName;
        try
        {
            Assert.IsType<FileSystemObjectStore>(ObjectStoreLocation.Open(directory));
            Assert.IsType<FileSystemObjectStore>(ObjectStoreLocation.Open("file://" + directory));
            Assert.False(ObjectStoreLocation.IsAzure(directory));
            Assert.True(ObjectStoreLocation.IsAzure("az://c/p"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("az://ab/x", "\"ab\" is not an Azure container name")]
    [InlineData("az://Upper/x", "\"Upper\" is not an Azure container name")]
    [InlineData("az://good-name/a//b", "is not a valid key prefix")]
    public void Bad_locations_are_refused_naming_the_part(string location, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => ObjectStoreLocation.Open(location, "UseDevelopmentStorage=true"));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith(location, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_az_location_without_a_connection_string_says_where_to_set_one()
    {
        var saved = Environment.GetEnvironmentVariable(ObjectStoreLocation.ConnectionStringVariable);
        Environment.SetEnvironmentVariable(ObjectStoreLocation.ConnectionStringVariable, null);
        try
        {
            var error = Assert.Throws<ArgumentException>(() => ObjectStoreLocation.Open("az://floe/repos"));
            Assert.Contains("AZURE_STORAGE_CONNECTION_STRING", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ObjectStoreLocation.ConnectionStringVariable, saved);
        }
    }

    [Fact]
    public void A_connection_string_for_another_account_than_the_url_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            ObjectStoreLocation.Open("https://other.blob.core.windows.net/data/x", "AccountName=mine;AccountKey=a2V5"));

        Assert.Contains("https://mine.blob.core.windows.net/", error.Message, StringComparison.Ordinal);
    }
}
