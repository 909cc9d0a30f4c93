using System.Buffers.Binary;
using System.Numerics;

namespace TemporalTestServer.State;

/// <summary>
/// FarmHash's 32-bit fingerprint (farmhashmk), which the real server applies to a workflow id to decide
/// whether a workflow falls into a ramp: the same ids land on the same side here as there, so a test can
/// count shares exactly. Checked against reference values in the tests.
/// </summary>
public static class FarmHash
{
    private const uint C1 = 0xcc9e2d51;
    private const uint C2 = 0x1b873593;
    private const uint MixAdd = 0xe6546b64;

    /// <summary>Where <paramref name="workflowId"/> falls in [0, 100): ramped when at or below the ramp percentage.</summary>
    public static double RampThreshold(string workflowId) =>
        100 * (Fingerprint32(System.Text.Encoding.UTF8.GetBytes(workflowId)) / 4294967296.0);

    public static uint Fingerprint32(ReadOnlySpan<byte> s) => s.Length switch
    {
        <= 4 => Short(s),
        <= 12 => Medium(s),
        <= 24 => Long(s),
        _ => VeryLong(s),
    };

    private static uint Short(ReadOnlySpan<byte> s)
    {
        uint b = 0, c = 9;
        foreach (var octet in s)
        {
            b = (b * C1) + (uint)(sbyte)octet; // the reference reads the bytes as signed
            c ^= b;
        }
        return Fmix(Mur(b, Mur((uint)s.Length, c)));
    }

    private static uint Medium(ReadOnlySpan<byte> s)
    {
        var length = (uint)s.Length;
        var a = length + Fetch(s, 0);
        var b = (length * 5) + Fetch(s, s.Length - 4);
        var c = 9 + Fetch(s, (s.Length >> 1) & 4);
        return Fmix(Mur(c, Mur(b, Mur(a, length * 5))));
    }

    private static uint Long(ReadOnlySpan<byte> s)
    {
        var half = s.Length >> 1;
        var a = Fetch(s, half - 4);
        var b = Fetch(s, 4);
        var c = Fetch(s, s.Length - 8);
        var d = Fetch(s, half);
        var e = Fetch(s, 0);
        var f = Fetch(s, s.Length - 4);
        var h = (d * C1) + (uint)s.Length;
        a = Rotate(a, 12) + f;
        h = Mur(c, h) + a;
        a = Rotate(a, 3) + c;
        h = Mur(e, h) + a;
        a = Rotate(a + f, 12) + d;
        h = Mur(b, h) + a;
        return Fmix(h);
    }

    private static uint VeryLong(ReadOnlySpan<byte> s)
    {
        var n = s.Length;
        var h = (uint)n;
        var g = C1 * (uint)n;
        var f = g;
        h = Step(Step(h, Scramble(Fetch(s, n - 4))), Scramble(Fetch(s, n - 16)));
        g = Step(Step(g, Scramble(Fetch(s, n - 8))), Scramble(Fetch(s, n - 12)));
        f = Rotate(f + Scramble(Fetch(s, n - 20)), 19) + 113;
        for (var blocks = (n - 1) / 20; blocks > 0; blocks--, s = s[20..])
        {
            var a = Fetch(s, 0);
            var b = Fetch(s, 4);
            var c = Fetch(s, 8);
            var d = Fetch(s, 12);
            var e = Fetch(s, 16);
            h = Mur(d, h + a) + e;
            g = Mur(c, g + b) + a;
            f = Mur(b + (e * C1), f + c) + d;
            f += g;
            g += f;
        }
        g = Rotate(Rotate(g, 11) * C1, 17) * C1;
        f = Rotate(Rotate(f, 11) * C1, 17) * C1;
        h = Rotate(Step(h + g, 0), 17) * C1;
        return Rotate(Step(h + f, 0), 17) * C1;
    }

    /// <summary>Murmur3's mixing of one word into the state.</summary>
    private static uint Mur(uint a, uint h) => Step(h, Scramble(a));

    private static uint Scramble(uint a) => Rotate(a * C1, 17) * C2;

    private static uint Step(uint h, uint a) => (Rotate(h ^ a, 19) * 5) + MixAdd;

    private static uint Fmix(uint h)
    {
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >> 16);
    }

    private static uint Rotate(uint value, int shift) => BitOperations.RotateRight(value, shift);

    private static uint Fetch(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);
}
