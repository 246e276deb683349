using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Floe.Api.V1;
using Floe.Rpc;
using Google.Protobuf;

namespace Floe.Server.Tests;

/// <summary>What the server does around the calls: size limits, TLS, health endpoints.</summary>
public sealed class TransportTests
{
    [Fact]
    public async Task A_request_over_the_size_limit_is_refused_and_changes_nothing()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Floe:Server:MaxReceiveMessageBytes"] = "4096" });
        using var client = server.Client();
        await client.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
        var session = await client.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" });

        using var call = client.Writes.WriteChanges();
        var request = new WriteChangesRequest { SessionId = session.SessionId };
        request.Changes.Add(new Change { CreateGroup = new CreateGroup { Path = "/big", AttributesJson = "{\"blob\":\"" + new string('x', 10_000) + "\"}" } });
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        var nodes = await client.Repositories.ListNodesAsync(new ListNodesRequest { Repository = "alpha" });
        Assert.Empty(nodes.Nodes);
    }

    [Fact]
    public async Task With_a_certificate_the_server_speaks_tls_and_answers_health_probes_on_the_same_port()
    {
        var directory = Directory.CreateTempSubdirectory("floe-tls-").FullName;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certificatePath = Path.Combine(directory, "server.pem");
        var keyPath = Path.Combine(directory, "server.key");
        await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());

        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Floe:Server:Certificate"] = certificatePath,
            ["Floe:Server:CertificateKey"] = keyPath,
        });
        var address = new UriBuilder(server.Address) { Scheme = "https" }.Uri;
        using var trusted = X509CertificateLoader.LoadCertificate(certificate.Export(X509ContentType.Cert));

        using (var client = new FloeClient(address, RunningServer.AdminToken, new RpcChannelOptions { TrustedServerCertificate = trusted }))
        {
            var info = await client.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
            Assert.Equal("alpha", info.Name);
        }

        // A client that does not trust the certificate gets nowhere.
        using (var untrusting = new FloeClient(address, RunningServer.AdminToken))
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => untrusting.Repositories.ListRepositoriesAsync(new ListRepositoriesRequest()));
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        }

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == trusted.Thumbprint };
        using var http = new HttpClient(handler);
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri(address, "/healthz")));
        Assert.Equal("ready\n", await http.GetStringAsync(new Uri(address, "/readyz")));
    }

    [Fact]
    public async Task The_plain_http_port_answers_health_probes()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Floe:Server:HttpListen"] = $"http://127.0.0.1:{port}" });
        using var http = new HttpClient();

        Assert.Equal("ok\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz")));
        Assert.Equal("ready\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/readyz")));
    }
}
