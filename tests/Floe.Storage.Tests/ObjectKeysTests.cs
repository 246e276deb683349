namespace Floe.Storage.Tests;

public sealed class ObjectKeysTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("refs/heads/main")]
    [InlineData(".hidden/.x")]
    [InlineData("a/...")]
    [InlineData("with space/and~tilde!")]
    public void Valid_keys_are_accepted(string key)
    {
        ObjectKeys.Validate(key);
        Assert.True(ObjectKeys.IsValid(key));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("/a", "start with '/'")]
    [InlineData("a//b", "empty segment")]
    [InlineData("a/./b", "\".\"")]
    [InlineData("a/..", "\"..\"")]
    [InlineData("a\\b", "backslash")]
    [InlineData("a/", "end with '/'")]
    [InlineData("a\u007fb", "U+007F")]
    public void Invalid_keys_are_rejected_with_the_reason(string key, string reason)
    {
        var ex = Assert.Throws<ArgumentException>(() => ObjectKeys.Validate(key));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Equal("key", ex.ParamName);
        Assert.False(ObjectKeys.IsValid(key));
    }

    [Fact]
    public void Keys_longer_than_the_limit_are_rejected()
    {
        Assert.True(ObjectKeys.IsValid(new string('k', ObjectKeys.MaxLength)));
        Assert.False(ObjectKeys.IsValid(new string('k', ObjectKeys.MaxLength + 1)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("refs/")]
    [InlineData("refs/bra")]
    [InlineData("a/.")]
    [InlineData("a/..")]
    public void Prefixes_may_be_empty_or_end_mid_segment(string prefix) => ObjectKeys.ValidatePrefix(prefix);

    [Theory]
    [InlineData("/refs")]
    [InlineData("a//")]
    [InlineData("../x")]
    [InlineData("a\\")]
    public void Prefixes_with_invalid_complete_segments_are_rejected(string prefix)
    {
        var ex = Assert.Throws<ArgumentException>(() => ObjectKeys.ValidatePrefix(prefix));
        Assert.Contains($"\"{prefix}\"", ex.Message, StringComparison.Ordinal);
    }
}
