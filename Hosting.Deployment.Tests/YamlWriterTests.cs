using Aspire.Hosting.Deployment.Yaml;
using YamlDotNet.Serialization;

namespace Hosting.Deployment.Tests;

/// <summary>What the writer emits reads back as exactly what it was given.</summary>
public sealed class YamlWriterTests
{
    [Theory]
    [InlineData("8080")]
    [InlineData("true")]
    [InlineData("no")]
    [InlineData("null")]
    [InlineData("1.0")]
    [InlineData("0x1F")]
    [InlineData("12:30")]
    [InlineData("")]
    [InlineData("-c")]
    [InlineData("a: b")]
    [InlineData("# not a comment")]
    [InlineData("redis-cli -a \"$REDIS_PASSWORD\" ping")]
    [InlineData("${API_KEY:?set API_KEY}")]
    [InlineData("set -eu\nrun \"$1\"\n")]
    [InlineData("no final newline\n  indented")]
    public void Every_string_reads_back_as_the_same_string(string value)
    {
        var yaml = YamlWriter.Write(new Map { { "key", value }, { "list", Seq.Of([value]) } });

        var read = new Deserializer().Deserialize<Dictionary<string, object>>(yaml);

        Assert.Equal(value, read["key"]);
        Assert.Equal(value, Assert.Single((List<object>)read["list"]));
    }
}
