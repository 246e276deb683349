using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Tests.Shared;

namespace Floe.Core.Tests;

/// <summary>
/// Runs Debian's /usr/bin/python3 with numcodecs as an independent implementation of the codecs.
/// Requests go over stdin as JSON lines and answers come back base64-encoded, one line each, so a
/// whole batch of cases costs one interpreter start.
/// </summary>
internal static class PythonOracle
{
    private const string InstallHint =
        "The numcodecs oracle needs Debian's python3 with numcodecs: apt-get install -y python3-numcodecs python3-numpy zstd";

    // numcodecs 0.11 (Debian 12) has no Fletcher32; then a line-by-line transcription of
    // numcodecs' fletcher32.pyx (itself HDF5's H5_checksum_fletcher32) stands in for it.
    private const string Script = """
import sys, json, base64, struct
try:
    import numpy
    import numcodecs
    from numcodecs.compat import ensure_bytes
except ImportError as e:
    print("MISSING " + str(e), flush=True)
    sys.exit(3)

def _fletcher32(data):
    length = len(data) // 2
    sum1 = sum2 = 0
    i = 0
    while length:
        tlen = 360 if length > 360 else length
        length -= tlen
        while tlen:
            sum1 = (sum1 + ((data[i] << 8) | data[i + 1])) & 0xffffffff
            sum2 = (sum2 + sum1) & 0xffffffff
            i += 2
            tlen -= 1
        sum1 = (sum1 & 0xffff) + (sum1 >> 16)
        sum2 = (sum2 & 0xffff) + (sum2 >> 16)
    if len(data) % 2:
        sum1 = (sum1 + (data[i] << 8)) & 0xffffffff
        sum2 = (sum2 + sum1) & 0xffffffff
        sum1 = (sum1 & 0xffff) + (sum1 >> 16)
        sum2 = (sum2 & 0xffff) + (sum2 >> 16)
    sum1 = (sum1 & 0xffff) + (sum1 >> 16)
    sum2 = (sum2 & 0xffff) + (sum2 >> 16)
    return (sum2 << 16) | sum1

class TranscribedFletcher32:
    def encode(self, buf):
        b = ensure_bytes(buf)
        return b + struct.pack("<I", _fletcher32(b))
    def decode(self, buf):
        b = ensure_bytes(buf)
        if struct.unpack("<I", b[-4:])[0] != _fletcher32(b[:-4]):
            raise RuntimeError("fletcher32 checksum mismatch")
        return b[:-4]

def make(config):
    if config["id"] == "fletcher32":
        try:
            from numcodecs import Fletcher32
            return Fletcher32()
        except ImportError:
            return TranscribedFletcher32()
    return numcodecs.get_codec(dict(config))

print("READY numcodecs " + numcodecs.__version__, flush=True)
for line in sys.stdin:
    request = json.loads(line)
    codecs = [make(c) for c in request["chain"]]
    data = base64.b64decode(request["data"])
    try:
        if request["op"] == "encode":
            for codec in codecs:
                data = ensure_bytes(codec.encode(data))
        else:
            for codec in reversed(codecs):
                data = ensure_bytes(codec.decode(data))
        print("OK " + base64.b64encode(data).decode(), flush=False)
    except Exception as e:
        print("ERR " + type(e).__name__ + ": " + str(e).replace("\n", " "), flush=False)
""";

    /// <summary>One request: run <paramref name="Chain"/> (numcodecs configs, encode order) over <paramref name="Data"/>.</summary>
    public sealed record Request(bool Encode, IReadOnlyList<JsonObject> Chain, byte[] Data);

    /// <summary>Runs every request in one python process; each answer is the output bytes or an "ERR …" message.</summary>
    public static IReadOnlyList<(byte[]? Output, string? Error)> Run(IReadOnlyList<Request> requests)
    {
        var process = OraclePython.Start(Script, redirectInput: true);
        using (process)
        {
            // Read while writing: python answers line by line and would block on a full stdout pipe.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            try
            {
                foreach (var request in requests)
                {
                    var line = new JsonObject
                    {
                        ["op"] = request.Encode ? "encode" : "decode",
                        ["chain"] = new JsonArray([.. request.Chain.Select(c => (JsonNode)c.DeepClone())]),
                        ["data"] = Convert.ToBase64String(request.Data),
                    };
                    process.StandardInput.WriteLine(line.ToJsonString());
                }

                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // Python exited early (e.g. numcodecs missing); its output below says why.
            }

            if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
            {
                process.Kill();
                Assert.Fail("python3 numcodecs oracle timed out.");
            }

            var lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length == 0 || !lines[0].StartsWith("READY", StringComparison.Ordinal))
            {
                Assert.Fail($"numcodecs is not usable ({string.Join(' ', lines)} {stderr.Result.Trim()}). {InstallHint}");
            }

            Assert.True(process.ExitCode == 0, $"python3 oracle failed with exit code {process.ExitCode}: {stderr.Result}");
            Assert.True(lines.Length - 1 == requests.Count, $"python3 oracle answered {lines.Length - 1} of {requests.Count} requests: {stderr.Result}");
            return
            [
                .. lines.Skip(1).Select(l => l.StartsWith("OK ", StringComparison.Ordinal)
                    ? (Convert.FromBase64String(l[3..]), (string?)null)
                    : ((byte[]?)null, l)),
            ];
        }
    }

    public static JsonObject Config(string id, params (string Key, JsonNode Value)[] settings)
    {
        var config = new JsonObject { ["id"] = id };
        foreach (var (key, value) in settings)
        {
            config[key] = value;
        }

        return config;
    }

    /// <summary>The Floe codec spec equivalent to a numcodecs config.</summary>
    public static CodecSpec ToSpec(JsonObject numcodecsConfig)
    {
        var configuration = numcodecsConfig.DeepClone().AsObject();
        var name = configuration["id"]!.GetValue<string>();
        configuration.Remove("id");
        return new CodecSpec(name, configuration.Count == 0 ? null : configuration);
    }

    public static string Describe(IEnumerable<JsonObject> chain) => string.Join(" | ", chain.Select(c => c.ToJsonString()));

    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
