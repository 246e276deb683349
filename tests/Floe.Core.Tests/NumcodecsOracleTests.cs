using System.Text.Json.Nodes;

namespace Floe.Core.Tests;

/// <summary>Cross-checks the codecs against numcodecs (Debian python3-numcodecs), both directions.</summary>
public sealed class NumcodecsOracleTests
{
    private static readonly byte[] Random64K = TestData.RandomBytes(65_536, seed: 1);
    private static readonly byte[] Wave = TestData.Float32Wave(10_000, seed: 2);
    private static readonly byte[] Odd = TestData.RandomBytes(1_001, seed: 3);

    // Chains are numcodecs configs in encode order; each runs over uint8 data of the given bytes.
    private static readonly (JsonObject[] Chain, byte[] Data)[] Cases =
    [
        ([PythonOracle.Config("zlib", ("level", 1))], Wave),
        ([PythonOracle.Config("zlib", ("level", 9))], Random64K),
        ([PythonOracle.Config("gzip", ("level", 1))], Wave),
        ([PythonOracle.Config("gzip", ("level", 6))], Odd),
        ([PythonOracle.Config("zstd", ("level", 1))], Wave),
        ([PythonOracle.Config("zstd", ("level", 19))], Odd),
        ([PythonOracle.Config("shuffle", ("elementsize", 2))], Odd[..1000]),
        ([PythonOracle.Config("shuffle", ("elementsize", 4))], Wave),
        ([PythonOracle.Config("shuffle", ("elementsize", 8))], Random64K),
        ([PythonOracle.Config("fletcher32")], Odd),
        ([PythonOracle.Config("fletcher32")], Random64K),
        ([PythonOracle.Config("fletcher32")], [0xFF, 0xFF, 0xFF]),
        ([PythonOracle.Config("shuffle", ("elementsize", 4)), PythonOracle.Config("zlib", ("level", 4)), PythonOracle.Config("fletcher32")], Wave),
        ([PythonOracle.Config("shuffle", ("elementsize", 4)), PythonOracle.Config("zstd", ("level", 3))], Wave),
    ];

    [Fact]
    public void Chunks_encoded_by_numcodecs_decode_to_the_original_bytes()
    {
        var answers = PythonOracle.Run([.. Cases.Select(c => new PythonOracle.Request(true, c.Chain, c.Data))]);

        for (var i = 0; i < Cases.Length; i++)
        {
            var (chain, data) = Cases[i];
            var (encoded, error) = answers[i];
            Assert.True(encoded is not null, $"numcodecs failed on {PythonOracle.Describe(chain)}: {error}");
            var pipeline = CodecPipeline.Create(TestData.Bytes(data.Length, [.. chain.Select(PythonOracle.ToSpec)]));

            var decoded = pipeline.Decode(encoded);

            Assert.True(data.AsSpan().SequenceEqual(decoded), $"decode mismatch for {PythonOracle.Describe(chain)}");
        }
    }

    [Fact]
    public void Chunks_encoded_by_floe_decode_in_numcodecs_and_deterministic_codecs_match_byte_for_byte()
    {
        // Our zstd with "checksum": true; numcodecs decodes it through libzstd, which verifies the checksum.
        var cases = Cases
            .Select(c => (c.Chain, Specs: c.Chain.Select(PythonOracle.ToSpec).ToArray(), c.Data))
            .Append(([PythonOracle.Config("zstd", ("level", 3))], [new CodecSpec("zstd", new JsonObject { ["level"] = 3, ["checksum"] = true })], Wave))
            .ToArray();
        var encodedByUs = cases.Select(c => CodecPipeline.Create(TestData.Bytes(c.Data.Length, c.Specs)).Encode(c.Data)).ToArray();

        var requests = cases.Select((c, i) => new PythonOracle.Request(false, c.Chain, encodedByUs[i])).ToList();
        var deterministic = Cases.Select((c, i) => (c, i))
            .Where(x => x.c.Chain.All(codec => codec["id"]!.GetValue<string>() is "shuffle" or "fletcher32"))
            .ToList();
        requests.AddRange(deterministic.Select(x => new PythonOracle.Request(true, x.c.Chain, x.c.Data)));

        var answers = PythonOracle.Run(requests);

        for (var i = 0; i < cases.Length; i++)
        {
            var (decoded, error) = answers[i];
            Assert.True(decoded is not null, $"numcodecs could not decode our {PythonOracle.Describe(cases[i].Chain)}: {error}");
            Assert.True(cases[i].Data.AsSpan().SequenceEqual(decoded), $"numcodecs decoded our {PythonOracle.Describe(cases[i].Chain)} to different bytes");
        }

        Assert.Equal(6, deterministic.Count);
        for (var k = 0; k < deterministic.Count; k++)
        {
            var (encodedByPython, _) = answers[cases.Length + k];
            Assert.Equal(Convert.ToHexString(encodedByPython!), Convert.ToHexString(encodedByUs[deterministic[k].i]));
        }
    }

    [Fact]
    public void A_big_endian_float32_chunk_matches_numcodecs_shuffle_zlib_fletcher32()
    {
        // The stored bytes are big-endian floats; SwapEach builds them independently of the bytes codec.
        JsonObject[] chain =
        [
            PythonOracle.Config("shuffle", ("elementsize", 4)),
            PythonOracle.Config("zlib", ("level", 5)),
            PythonOracle.Config("fletcher32"),
        ];
        var bigEndian = TestData.SwapEach(Wave, 4);
        var metadata = ArrayMetadata.Create([100, 100], DataType.Float32, [100, 100],
            [new CodecSpec("bytes", new JsonObject { ["endian"] = "big" }), .. chain.Select(PythonOracle.ToSpec)]);
        var pipeline = CodecPipeline.Create(metadata);
        var ours = pipeline.Encode(Wave);

        var answers = PythonOracle.Run([new(true, chain, bigEndian), new(false, chain, ours)]);

        Assert.True(answers[0].Output is not null, answers[0].Error);
        Assert.Equal(Wave, pipeline.Decode(answers[0].Output));
        Assert.True(answers[1].Output is not null, answers[1].Error);
        Assert.Equal(bigEndian, answers[1].Output);
    }
}
