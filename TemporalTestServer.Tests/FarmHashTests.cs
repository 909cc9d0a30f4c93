using System.Text;
using TemporalTestServer.State;

namespace TemporalTestServer.Tests;

/// <summary>
/// The ramp hash must be FarmHash's Fingerprint32 as the real server computes it (Go's go-farm): reference
/// values from an independent implementation (the farmhash-modern npm package), covering each length branch
/// and bytes above 0x7f. For inputs of at most 4 bytes above 0x7f that package reads bytes unsigned, where
/// go-farm and the C++ reference read them signed; those two values are the signed reading's.
/// </summary>
public sealed class FarmHashTests
{
    [Theory]
    [InlineData("", 3696677242u)]
    [InlineData("a", 1016544589u)]
    [InlineData("ab", 1098068221u)]
    [InlineData("abc", 795041479u)]
    [InlineData("abcd", 2562006677u)]
    [InlineData("é", 1973972843u)] // farmhash-modern: 1161978408
    [InlineData("ωx", 3568846427u)] // farmhash-modern: 3419147023
    [InlineData("abcde", 2750637740u)]
    [InlineData("ü-ü", 1366728148u)]
    [InlineData("hello, w", 3754858437u)]
    [InlineData("workflow12", 1757161418u)]
    [InlineData("abcdefghijkl", 1769366226u)]
    [InlineData("abcdefghijklm", 1792790684u)]
    [InlineData("order-1234567890", 2869745554u)]
    [InlineData("twenty-four-characters!!", 632258414u)]
    [InlineData("twenty-five-characters!!!", 2976982331u)]
    [InlineData("é-ünïcode-ωflow", 2723554187u)]
    [InlineData("a-much-longer-workflow-id-to-hash-0123456789abcdef", 4278070634u)]
    [InlineData("ramp-share-0", 944600796u)]
    [InlineData("ramp-share-199", 256231341u)]
    public void Fingerprint32_matches_the_reference(string input, uint expected) =>
        Assert.Equal(expected, FarmHash.Fingerprint32(Encoding.UTF8.GetBytes(input)));

    [Fact]
    public void Fingerprint32_matches_the_reference_over_many_blocks() =>
        Assert.Equal(3724713576u, FarmHash.Fingerprint32(Encoding.UTF8.GetBytes(new string('a', 100))));

    [Fact]
    public void The_ramp_threshold_is_the_fingerprint_scaled_to_a_percentage() =>
        Assert.Equal(100 * (944600796 / 4294967296.0), FarmHash.RampThreshold("ramp-share-0"));
}
