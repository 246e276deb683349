using System.Buffers.Binary;
using System.Text;
using Xunit.Abstractions;

namespace Floe.Formats.Hdf5.Tests;

/// <summary>
/// Seeded random mutations of real fixture files (byte flips, overwritten fields, zeroed ranges, truncation), half
/// of them with the metadata checksums recomputed so the corruption reaches the parsers behind them. Every open and
/// read must succeed or fail with <see cref="Hdf5FormatException"/> (or its not-supported subclass), quickly.
/// </summary>
[Collection("hdf5 fixtures")]
public sealed class FuzzTests(FixtureSet fixtures, ITestOutputHelper output)
{
    private static readonly string[] Signatures = ["OHDR", "OCHK", "TREE", "SNOD", "HEAP", "GCOL", "FRHP", "FHDB", "FHIB", "BTHD", "BTIN", "BTLF", "FAHD", "FADB", "EAHD", "EAIB", "EASB", "EADB", "SMTB", "\u0089HDF"];

    [Theory]
    [InlineData("small_latest.h5", 220)]
    [InlineData("earliest.h5", 120)]
    [InlineData("v108.h5", 120)]
    [InlineData("sohm.h5", 120)]
    [InlineData("superblock1.h5", 60)]
    [InlineData("userblock.h5", 60)]
    [InlineData("sizes4_earliest.h5", 80)]
    public async Task Mutated_files_fail_only_with_format_errors(string name, int cases)
    {
        // FLOE_HDF5_FUZZ_SCALE=N runs N times as many cases (for longer hunts outside the regular suite).
        cases *= int.TryParse(Environment.GetEnvironmentVariable("FLOE_HDF5_FUZZ_SCALE"), out var scale) && scale > 0 ? scale : 1;
        var original = File.ReadAllBytes(fixtures.PathOf(name));
        var structures = FindStructures(original);
        int opened = 0, failed = 0;
        for (var seed = 0; seed < cases; seed++)
        {
            var random = new Random(name.GetHashCode(StringComparison.Ordinal) ^ (seed * 7919));
            var (content, description) = Mutate(original, structures, random);
            if (random.Next(2) == 0)
            {
                FixChecksums(content);
                description += ", checksums fixed";
            }

            Exception? error;
            try
            {
                error = await Task.Run(() => Exercise(content, name)).WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                Assert.Fail($"{name} case {seed} ({description}) did not finish in 20 s: endless loop?");
                throw;
            }

            if (error is null)
            {
                opened++;
                continue;
            }

            failed++;
            if (error is not Hdf5FormatException || error.Message.Contains("internal error", StringComparison.Ordinal))
            {
                Assert.Fail($"{name} case {seed} ({description}): {error.GetType().Name}: {error}");
            }
        }

        output.WriteLine($"{name}: {cases} cases, {opened} read through, {failed} refused with format errors");
    }

    // Opens the file, lists every object, reads every dataset's chunks and data; returns the exception, if any.
    private static async Task<Exception?> Exercise(byte[] content, string name)
    {
        try
        {
            var file = await Hdf5File.OpenAsync(new MemorySource(content), name);
            foreach (var obj in file.Walk())
            {
                _ = file.Find(obj.Path);
                if (obj is Hdf5Dataset dataset)
                {
                    await file.ReadChunksAsync(dataset);
                    await file.ReadDataAsync(dataset, maxBytes: 8 << 20);
                }
            }

            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private static List<int> FindStructures(byte[] content)
    {
        var offsets = new List<int>();
        foreach (var signature in Signatures)
        {
            var bytes = Encoding.Latin1.GetBytes(signature);
            for (var at = content.AsSpan().IndexOf(bytes); at >= 0;)
            {
                offsets.Add(at);
                var next = content.AsSpan(at + 1).IndexOf(bytes);
                at = next < 0 ? -1 : at + 1 + next;
            }
        }

        offsets.Sort();
        return offsets;
    }

    private static (byte[] Content, string Description) Mutate(byte[] original, List<int> structures, Random random)
    {
        var content = (byte[])original.Clone();
        int Near() => structures.Count > 0 && random.Next(4) != 0
            ? Math.Min(content.Length - 1, structures[random.Next(structures.Count)] + random.Next(96))
            : random.Next(content.Length);

        switch (random.Next(5))
        {
            case 0:
                {
                    var count = 1 + random.Next(4);
                    var at = new List<int>();
                    for (var i = 0; i < count; i++)
                    {
                        var p = Near();
                        content[p] ^= (byte)(1 + random.Next(255));
                        at.Add(p);
                    }

                    return (content, $"flipped bytes at {string.Join(",", at)}");
                }

            case 1:
                {
                    var p = Near();
                    var value = random.Next(4) switch
                    {
                        0 => ulong.MaxValue,
                        1 => (ulong)random.NextInt64(),
                        2 => (ulong)random.Next(content.Length * 2),
                        _ => (ulong)random.Next(256),
                    };
                    var width = new[] { 1, 2, 4, 8 }[random.Next(4)];
                    for (var i = 0; i < width && p + i < content.Length; i++)
                    {
                        content[p + i] = (byte)(value >> (8 * i));
                    }

                    return (content, $"wrote {value} in {width} bytes at {p}");
                }

            case 2:
                {
                    var p = Near();
                    var length = Math.Min(1 + random.Next(64), content.Length - p);
                    var fill = random.Next(2) == 0 ? (byte)0 : (byte)0xff;
                    content.AsSpan(p, length).Fill(fill);
                    return (content, $"filled {length} bytes at {p} with {fill}");
                }

            case 3:
                {
                    var length = random.Next(content.Length);
                    return (content[..length], $"truncated to {length} bytes");
                }

            default:
                {
                    // Move a block of bytes over another structure.
                    var from = Near();
                    var to = Near();
                    var length = Math.Min(Math.Min(8 + random.Next(120), content.Length - from), content.Length - to);
                    Array.Copy(original, from, content, to, length);
                    return (content, $"copied {length} bytes from {from} to {to}");
                }
        }
    }

    // Recomputes the lookup3 checksums of the fixed-size v2 structures (8-byte offsets and lengths).
    private static void FixChecksums(byte[] content)
    {
        void Fix(int start, int length)
        {
            if (start >= 0 && length > 0 && start + length + 4 <= content.Length)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(start + length), Lookup3.Hash(content.AsSpan(start, length)));
            }
        }

        var span = content.AsSpan();
        for (var at = 0; at + 4 <= content.Length; at++)
        {
            var signature = span.Slice(at, 4);
            if (signature.SequenceEqual("OHDR"u8) && at + 6 < content.Length)
            {
                var flags = content[at + 5];
                var prefix = 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
                var sizeBytes = 1 << (flags & 3);
                if (at + prefix + sizeBytes <= content.Length)
                {
                    ulong size = 0;
                    for (var i = sizeBytes - 1; i >= 0; i--)
                    {
                        size = (size << 8) | content[at + prefix + i];
                    }

                    if (size < (ulong)content.Length)
                    {
                        Fix(at, prefix + sizeBytes + (int)size);
                    }
                }
            }
            else if (signature.SequenceEqual("BTHD"u8))
            {
                Fix(at, 4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + 8 + 2 + 8);
            }
            else if (signature.SequenceEqual("FRHP"u8))
            {
                Fix(at, 4 + 1 + 2 + 2 + 1 + 4 + 8 + 8 + 8 + 8 + 8 * 8 + 2 + 8 + 8 + 2 + 2 + 8 + 2);
            }
            else if (signature.SequenceEqual("FAHD"u8))
            {
                Fix(at, 4 + 1 + 1 + 1 + 1 + 8 + 8);
            }
            else if (signature.SequenceEqual("EAHD"u8))
            {
                Fix(at, 4 + 1 + 1 + 6 + 6 * 8 + 8);
            }
            else if (at + 9 < content.Length && span.Slice(at, 8).SequenceEqual((byte[])[0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]) && content[at + 8] >= 2)
            {
                Fix(at, 12 + 4 * 8);
            }
        }
    }
}
