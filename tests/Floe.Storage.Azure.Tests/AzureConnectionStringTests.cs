namespace Floe.Storage.Azure.Tests;

public sealed class AzureConnectionStringTests
{
    [Fact]
    public void An_account_key_string_names_the_public_endpoint()
    {
        var account = AzureConnectionString.Parse("DefaultEndpointsProtocol=https;AccountName=floedata;AccountKey=a2V5;EndpointSuffix=core.windows.net");

        Assert.Equal(new Uri("https://floedata.blob.core.windows.net/"), account.BlobEndpoint);
        Assert.Equal("floedata", account.AccountName);
        Assert.Equal("key"u8.ToArray(), account.AccountKey);
        Assert.Equal("SharedKey", account.AuthKind);
    }

    [Fact]
    public void Development_storage_is_azurite_on_the_loopback_with_the_published_key()
    {
        var account = AzureConnectionString.Parse("UseDevelopmentStorage=true");

        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1/"), account.BlobEndpoint);
        Assert.Equal(AzureConnectionString.DevelopmentAccount, account.AccountName);
        Assert.Equal(Convert.FromBase64String(AzureConnectionString.DevelopmentKey), account.AccountKey);
    }

    [Fact]
    public void A_sas_string_with_an_explicit_endpoint_takes_the_account_from_it()
    {
        var account = AzureConnectionString.Parse("BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=?sv=2022-11-02&sig=abc%3D");
        var pathStyle = AzureConnectionString.Parse("BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;SharedAccessSignature=sv=x&sig=y");

        Assert.Equal("acct", account.AccountName);
        Assert.Equal("sv=2022-11-02&sig=abc%3D", account.SharedAccessSignature);
        Assert.Equal("SAS", account.AuthKind);
        Assert.Equal("devstoreaccount1", pathStyle.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1/"), pathStyle.BlobEndpoint);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("AccountKey=a2V5", "AccountName (or BlobEndpoint) is required")]
    [InlineData("AccountName=a;AccountKey=not base64!", "AccountKey is not base64")]
    [InlineData("AccountName=a;AccountName=b", "AccountName is given twice")]
    [InlineData("AccountName=a;DefaultEndpointsProtocol=ftp", "DefaultEndpointsProtocol must be http or https")]
    [InlineData("BlobEndpoint=ftp://x", "BlobEndpoint \"ftp://x\" is not an http(s) URL")]
    [InlineData("AccountName=my_account", "AccountName \"my_account\" is not a storage account name")]
    [InlineData("AccountName=a;AccountKey=a2V5;SharedAccessSignature=sig=1", "not both")]
    [InlineData("UseDevelopmentStorage=false", "UseDevelopmentStorage must be true")]
    [InlineData("justtext", "is not a NAME=VALUE setting")]
    public void Bad_strings_are_refused_naming_the_setting(string text, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => AzureConnectionString.Parse(text, "Floe:StoreConnectionString"));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("Floe:StoreConnectionString: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_and_descriptions_never_show_the_key_or_signature()
    {
        var error = Assert.Throws<ArgumentException>(() => AzureConnectionString.Parse("AccountName=a;AccountKey=c2VjcmV0c2VjcmV0;Garbage"));
        var account = AzureConnectionString.Parse("AccountName=a;AccountKey=c2VjcmV0c2VjcmV0");

        Assert.DoesNotContain("c2VjcmV0c2VjcmV0", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0c2VjcmV0", account.ToString(), StringComparison.Ordinal);
    }
}
