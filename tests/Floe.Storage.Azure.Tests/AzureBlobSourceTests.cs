namespace Floe.Storage.Azure.Tests;

/// <summary>Reading source files' byte ranges from blobs the Azure SDK uploaded, with credentials per prefix.</summary>
[Collection("azurite")]
public sealed class AzureBlobSourceTests : IDisposable
{
    private readonly AzuriteFixture _azurite;
    private readonly string _scratch = Directory.CreateTempSubdirectory("floe-azure-source-").FullName;
    private readonly string _container;
    private readonly byte[] _data = AzureOracleTests.RandomBytes(100_000, 11);

    public AzureBlobSourceTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
        _container = azurite.NewContainer("src");
        var file = Path.Combine(_scratch, "file.nc");
        File.WriteAllBytes(file, _data);
        AzureOracle.Run(azurite.ConnectionString, "put", _container, "2020/01/file.nc", file);
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task An_az_location_reads_ranges_with_the_credential_of_its_prefix()
    {
        var source = new AzureBlobSource([new SourceCredential($"az://{_container}/", _azurite.ConnectionString)]);
        var location = $"az://{_container}/2020/01/file.nc";

        var info = await source.StatAsync(location);
        var read = await source.ReadAsync(location, 1000, 5000);
        var many = await ((IByteRangeSource)source).ReadManyAsync(location, [(0, 10), (99_990, 10)]);

        Assert.True(source.CanRead(location));
        Assert.Equal(_data.Length, info.Length);
        Assert.NotNull(info.Etag);
        Assert.NotNull(info.LastModified);
        Assert.Equal(_data[1000..6000], read.Data.ToArray());
        Assert.Equal(info.Etag, read.Info.Etag);
        Assert.Equal(_data.Length, read.Info.Length);
        Assert.Equal(_data[..10], many.Data[0].ToArray());
        Assert.Equal(_data[99_990..], many.Data[1].ToArray());
    }

    [Fact]
    public async Task An_endpoint_url_uses_its_prefix_credential_a_sas_works_and_the_longest_prefix_wins()
    {
        var sas = AzureOracle.Run(_azurite.ConnectionString, "sas", _container, "rl");
        var url = $"{_azurite.Server.BlobEndpoint}/{_container}/2020/01/file.nc";
        var source = new AzureBlobSource([
            new SourceCredential($"{_azurite.Server.BlobEndpoint}/", "AccountName=devstoreaccount1;AccountKey=d3Jvbmc=;BlobEndpoint=" + _azurite.Server.BlobEndpoint),
            new SourceCredential($"{_azurite.Server.BlobEndpoint}/{_container}/", $"BlobEndpoint={_azurite.Server.BlobEndpoint};SharedAccessSignature={sas}"),
        ]);

        Assert.Equal(_data[..100], (await source.ReadAsync(url, 0, 100)).Data.ToArray());
        // The shorter prefix's key is wrong: another container under it is refused, naming the location.
        var other = $"{_azurite.Server.BlobEndpoint}/{_azurite.NewContainer()}/x.nc";
        var error = await Assert.ThrowsAsync<SourceReadException>(() => source.ReadAsync(other, 0, 1).AsTask());
        Assert.Contains(other, error.Message, StringComparison.Ordinal);
        Assert.Contains("403", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_public_container_is_read_anonymously_when_no_prefix_matches()
    {
        AzureOracle.Run(_azurite.ConnectionString, "public", _container);
        var source = new AzureBlobSource([]);
        var url = $"{_azurite.Server.BlobEndpoint}/{_container}/2020/01/file.nc";

        Assert.False(source.CanRead(url)); // http://127.0.0.1 is not an Azure host: plain HTTP serves it unless a prefix says otherwise
        var resolved = source.Resolve(url);
        Assert.Equal("anonymous", resolved.Client.Account.AuthKind);
        Assert.Equal((_container, "2020/01/file.nc"), (resolved.Container, resolved.Blob));
        Assert.Equal(_data[50..60], (await source.ReadAsync(url, 50, 10)).Data.ToArray());
    }

    [Fact]
    public async Task Missing_files_ranges_past_the_end_and_unconfigured_locations_fail_naming_the_location()
    {
        var source = new AzureBlobSource([new SourceCredential($"az://{_container}/", _azurite.ConnectionString)]);
        var location = $"az://{_container}/2020/01/file.nc";
        var missing = $"az://{_container}/2020/01/none.nc";

        await Assert.ThrowsAsync<SourceNotFoundException>(() => source.StatAsync(missing).AsTask());
        await Assert.ThrowsAsync<SourceNotFoundException>(() => source.ReadAsync(missing, 0, 10).AsTask());
        var past = await Assert.ThrowsAsync<SourceReadException>(() => source.ReadAsync(location, 99_995, 10).AsTask());
        Assert.Contains(location, past.Message, StringComparison.Ordinal);
        Assert.Contains("99995+10", past.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SourceReadException>(() => source.ReadAsync(location, 200_000, 10).AsTask());
        Assert.Equal(0, (await source.ReadUpToAsync(location, _data.Length, 100)).Data.Length);
        Assert.Equal(_data[99_900..], (await source.ReadUpToAsync(location, 99_900, 1000)).Data.ToArray());

        var unconfigured = "az://elsewhere/file.nc";
        var error = await Assert.ThrowsAsync<SourceReadException>(() => source.ReadAsync(unconfigured, 0, 1).AsTask());
        Assert.Contains(unconfigured, error.Message, StringComparison.Ordinal);
        Assert.Contains("no credentials", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_default_registry_sends_azure_locations_here_and_others_to_files_and_http()
    {
        var sources = new AzureBlobSource([], _azurite.ConnectionString).WithDefaults();
        var local = Path.Combine(_scratch, "file.nc");

        Assert.Equal(_data[..4], (await sources.ReadAsync($"az://{_container}/2020/01/file.nc", 0, 4)).Data.ToArray());
        Assert.Equal(_data[..4], (await sources.ReadAsync(local, 0, 4)).Data.ToArray());
        Assert.IsType<AzureBlobSource>(sources.Sources[0]);
        Assert.True(sources.Sources[0].CanRead("https://acct.blob.core.windows.net/c/b.nc"));
    }

    [Fact]
    public void Credential_files_are_read_and_their_errors_name_the_file_and_entry()
    {
        var path = Path.Combine(_scratch, "credentials.json");
        File.WriteAllText(path, $$"""[{"prefix": "az://archive/", "connectionString": "UseDevelopmentStorage=true"}, {"Prefix": "https://a.blob.core.windows.net/c/", "ConnectionString": "AccountName=a;AccountKey=a2V5"}]""");
        var credentials = SourceCredentials.Load(path);
        Assert.Equal(["az://archive/", "https://a.blob.core.windows.net/c/"], credentials.Select(c => c.Prefix));
        Assert.Equal(["https://a.blob.core.windows.net/c/", "az://archive/"], new AzureBlobSource(credentials).Prefixes);

        File.WriteAllText(path, """[{"prefix": "az://archive/"}]""");
        var missing = Assert.Throws<ArgumentException>(() => SourceCredentials.Load(path));
        Assert.Contains(path, missing.Message, StringComparison.Ordinal);
        Assert.Contains("entry 0", missing.Message, StringComparison.Ordinal);
        Assert.Contains("connectionString", missing.Message, StringComparison.Ordinal);

        var badPrefix = Assert.Throws<ArgumentException>(() => new AzureBlobSource([new SourceCredential("/data/", "UseDevelopmentStorage=true")]));
        Assert.Contains("/data/", badPrefix.Message, StringComparison.Ordinal);
        var badKey = Assert.Throws<ArgumentException>(() => new AzureBlobSource([new SourceCredential("az://x/", "AccountName=a;AccountKey=!!!secret!!!")]));
        Assert.Contains("AccountKey is not base64", badKey.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", badKey.Message, StringComparison.Ordinal);
    }
}
