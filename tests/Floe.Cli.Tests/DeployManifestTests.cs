using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Floe.Ingest;
using Floe.Ingest.Sources;
using Floe.Server;
using Floe.Tests.Shared;
using Microsoft.Extensions.Configuration;

namespace Floe.Cli.Tests;

/// <summary>
/// The deployment files under deploy/ (the Dockerfile, the Kubernetes manifests, the local Azurite compose file)
/// checked without a Docker engine or a cluster: the YAML is parsed by PyYAML, an independent parser; the commands
/// the pods run are parsed by the real floe command line; the ConfigMap's settings are walked against the server's
/// options class and served by the real server; names that refer to each other (images, labels, ports, Secrets,
/// volumes) are checked to agree. Every failure names the file and the field.
/// </summary>
public sealed partial class DeployManifestTests
{
    private const string Namespace = "floe";

    // The development token deploy/local/compose.yaml admits (its hash is there; docs/operations.md gives the token).
    private const string LocalDevToken = "floe_local_dev_token";

    // Azurite's published development account key (not a secret).
    private const string AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string ParseYaml = """
        import sys, json
        try:
            import yaml
        except ImportError:
            sys.exit("PyYAML is missing: apt-get install -y python3-yaml")
        out = {}
        for path in sys.argv[1:]:
            try:
                with open(path, encoding="utf-8") as f:
                    out[path] = {"documents": [d for d in yaml.safe_load_all(f) if d is not None]}
            except Exception as e:
                out[path] = {"error": type(e).__name__ + ": " + str(e)}
        print(json.dumps(out, default=str))
        """;

    private static readonly Lazy<DeployFiles> Files = new(DeployFiles.Load);

    private static DeployFiles Deploy => Files.Value;

    [Fact]
    public void Every_yaml_file_parses_and_every_kubernetes_object_is_named_and_labelled()
    {
        Assert.NotEmpty(Deploy.Yaml);
        foreach (var (file, parsed) in Deploy.Yaml)
        {
            Assert.True(parsed.Error is null, $"{file}: PyYAML cannot parse it: {parsed.Error}");
            Assert.True(parsed.Documents.Count > 0, $"{file}: holds no YAML document");
        }

        foreach (var doc in Deploy.KubernetesObjects)
        {
            foreach (var field in new[] { "apiVersion", "kind", "metadata.name" })
            {
                Assert.True(Find(doc.Root, field) is { ValueKind: JsonValueKind.String } value && value.GetString()!.Length > 0, $"{doc.File}: document {doc.Index}: {field} is missing");
            }

            Assert.True(Text(doc, "metadata.labels.app\\.kubernetes\\.io/name") == "floe", $"{doc}: metadata.labels app.kubernetes.io/name should be floe");
            if (doc.Kind != "Namespace")
            {
                Assert.True(Text(doc, "metadata.namespace") == Namespace, $"{doc}: metadata.namespace should be {Namespace}, so the file applies on its own");
            }
        }

        var names = Deploy.KubernetesObjects.GroupBy(d => (d.Kind, d.Name)).Where(g => g.Count() > 1).Select(g => $"{g.Key.Kind} {g.Key.Name}");
        Assert.True(!names.Any(), $"deploy/k8s: objects defined twice: {string.Join(", ", names)}");
    }

    [Fact]
    public void The_kustomization_lists_exactly_the_long_running_manifests()
    {
        var kustomization = Deploy.Single("deploy/k8s/kustomization.yaml");
        Assert.True(Text(kustomization, "kind") == "Kustomization", "deploy/k8s/kustomization.yaml: kind should be Kustomization");
        Assert.True(Text(kustomization, "namespace") == Namespace, $"deploy/k8s/kustomization.yaml: namespace should be {Namespace}");
        var listed = Get(kustomization, "resources").EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.True(listed.Count == listed.Distinct().Count(), "deploy/k8s/kustomization.yaml: resources lists a file twice");

        // Everything beside it, except the Secret template (applying placeholders would overwrite real credentials)
        // and the one-off Jobs in jobs/ (applied by hand, in order).
        var beside = Directory.EnumerateFiles(Path.Combine(Deploy.Root, "deploy", "k8s"), "*.yaml").Select(Path.GetFileName)
            .Where(f => f is not ("kustomization.yaml" or "secret.yaml")).Order(StringComparer.Ordinal).ToList();
        Assert.True(beside.SequenceEqual(listed.Order(StringComparer.Ordinal)),
            $"deploy/k8s/kustomization.yaml: resources [{string.Join(", ", listed)}] should be exactly the manifests beside it [{string.Join(", ", beside)}]");
        Assert.DoesNotContain("secret.yaml", listed);
        Assert.True(listed.All(r => !r.StartsWith("jobs", StringComparison.Ordinal)), "deploy/k8s/kustomization.yaml: the Jobs are applied by hand, in order, not with the servers");
    }

    [Fact]
    public void One_image_runs_everywhere_and_is_the_one_the_documented_build_tags()
    {
        var images = Deploy.Pods.SelectMany(p => Containers(p).Select(c => (p.Owner, Image: Text(c, "image")))).ToList();
        Assert.NotEmpty(images);
        var image = images[0].Image;
        foreach (var (owner, other) in images)
        {
            Assert.True(other == image, $"{owner}: spec.template.spec.containers[].image is {other}, elsewhere {image}");
        }

        Assert.True(Regex.IsMatch(image, @"^floe:\d+\.\d+\.\d+$"), $"{images[0].Owner}: image {image} should be floe with a fixed version tag");
        var operations = File.ReadAllText(Path.Combine(Deploy.Root, "docs", "operations.md"));
        var build = DockerBuildCommand().Match(operations);
        Assert.True(build.Success, "docs/operations.md: no `docker build -f deploy/Dockerfile -t IMAGE .` command");
        Assert.True(build.Groups[1].Value == image, $"docs/operations.md: docker build tags {build.Groups[1].Value}, the manifests run {image}");
        Assert.True(Text(Deploy.ComposeService("floe"), "image") == image, $"deploy/local/compose.yaml: services.floe.image should be {image}");
        Assert.True(operations.Contains("kubectl apply -k deploy/k8s", StringComparison.Ordinal), "docs/operations.md: should give `kubectl apply -k deploy/k8s`");
    }

    [Fact]
    public void The_service_routes_to_the_server_pods_through_named_ports()
    {
        var (server, container) = Deploy.ServerContainer;
        var ports = ContainerPorts(server, container);
        var service = Deploy.Object("Service", "floe");
        var selector = Get(service, "spec.selector").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.NotEmpty(selector);
        var podLabels = Get(server.Owner, "spec.template.metadata.labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        foreach (var (key, value) in selector)
        {
            Assert.True(podLabels.TryGetValue(key, out var label) && label == value, $"{service}: spec.selector {key}={value} does not match the labels of {server.Owner}'s pods");
        }

        var matchLabels = Get(server.Owner, "spec.selector.matchLabels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.True(matchLabels.All(m => podLabels.TryGetValue(m.Key, out var v) && v == m.Value), $"{server.Owner}: spec.selector.matchLabels does not match spec.template.metadata.labels");

        // Ingestion pods carry the same app name but must not receive the Service's traffic.
        foreach (var pod in Deploy.Pods.Where(p => p.Owner.Kind == "Job"))
        {
            var labels = Get(pod.Owner, "spec.template.metadata.labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
            Assert.False(selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value), $"{pod.Owner}: its pods match the selector of {service}");
        }

        var servicePorts = Get(service, "spec.ports").EnumerateArray().ToList();
        Assert.True(ports.Keys.Order(StringComparer.Ordinal).SequenceEqual(servicePorts.Select(p => Text(p, "name")).Order(StringComparer.Ordinal)),
            $"{service}: spec.ports [{string.Join(", ", servicePorts.Select(p => Text(p, "name")))}] should be the containerPorts of {server.Owner} [{string.Join(", ", ports.Keys)}]");
        foreach (var port in servicePorts)
        {
            var name = port.GetProperty("name").GetString()!;
            var target = port.GetProperty("targetPort");
            Assert.True(target.ValueKind == JsonValueKind.String && ports.ContainsKey(target.GetString()!),
                $"{service}: spec.ports[{name}].targetPort {target} names no containerPort of {server.Owner} ({string.Join(", ", ports.Keys)})");
            Assert.True(port.GetProperty("port").GetInt32() == Port(server, ports, target.GetString()!),
                $"{service}: spec.ports[{name}].port should equal containerPort {ports[target.GetString()!]}, the port the docs and the Jobs use");
        }

        var grpc = servicePorts.Single(p => p.GetProperty("name").GetString() == "grpc");
        Assert.True(grpc.TryGetProperty("appProtocol", out var protocol) && protocol.GetString() is "kubernetes.io/h2c" or "grpc",
            $"{service}: spec.ports[grpc].appProtocol should say the port speaks cleartext HTTP/2");
    }

    [Fact]
    public async Task The_probes_name_the_http_port_and_the_server_answers_them_with_the_configmap_settings()
    {
        var (server, container) = Deploy.ServerContainer;
        var ports = ContainerPorts(server, container);
        var httpPort = new Uri(Deploy.Setting("Floe.Server.HttpListen")).Port;
        var probes = new List<(string Probe, string Path)>();
        foreach (var (probe, path) in new[] { ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/healthz") })
        {
            if (Find(container, probe) is not { } spec)
            {
                Assert.True(probe == "startupProbe", $"{server.Owner}: container {Text(container, "name")} has no {probe}");
                continue;
            }

            var port = Find(spec, "httpGet.port");
            Assert.True(port is { ValueKind: JsonValueKind.String } && ports.TryGetValue(port.Value.GetString()!, out var number) && number == httpPort,
                $"{server.Owner}: {probe}.httpGet.port {port} should name the containerPort of Floe:Server:HttpListen ({httpPort}); the gRPC port speaks only HTTP/2");
            Assert.True(Find(spec, "httpGet.path")?.GetString() == path, $"{server.Owner}: {probe}.httpGet.path should be {path}");
            probes.Add((probe, path));
        }

        // The real server, started with the ConfigMap's settings file; only the store, the addresses and the export
        // directory are replaced (a temporary directory for the store and loopback ports).
        var directory = Directory.CreateTempSubdirectory("floe-deploy-tests-").FullName;
        try
        {
            var file = Path.Combine(directory, "appsettings.json");
            await File.WriteAllTextAsync(file, Deploy.AppSettingsText);
            var port = FreePort();
            var overrides = new Dictionary<string, string?>
            {
                ["Floe:Store"] = Path.Combine(directory, "store"),
                ["Floe:Server:Listen"] = "http://127.0.0.1:0",
                ["Floe:Server:HttpListen"] = $"http://127.0.0.1:{port}",
                ["Floe:Server:ExportRoot"] = Path.Combine(directory, "exports"),
            };
            await using var app = FloeServer.Build(["--config", file], c => c.AddInMemoryCollection(overrides));
            await app.StartAsync();
            try
            {
                var options = (FloeOptions)app.Services.GetService(typeof(FloeOptions))!;
                var allowed = Deploy.AllowedSources;
                Assert.True(allowed.SequenceEqual(options.Sources.Allowed), "deploy/k8s/configmap.yaml: Floe.Sources.Allowed did not reach the server's options");
                using var http = new HttpClient();
                foreach (var (probe, path) in probes)
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
                    Assert.True(response.StatusCode == HttpStatusCode.OK, $"{server.Owner}: {probe} {path}: the server answered {(int)response.StatusCode}");
                }
            }
            finally
            {
                await app.StopAsync();
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_configmap_settings_are_options_the_server_has_and_agree_with_the_ports_and_volumes()
    {
        const string file = "deploy/k8s/configmap.yaml: data.appsettings.json";
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(Deploy.AppSettingsText))).Build();
        foreach (var (key, _) in configuration.AsEnumerable())
        {
            AssertConfigurationKey(file, key);
        }

        var (server, container) = Deploy.ServerContainer;
        var ports = ContainerPorts(server, container);
        Assert.True(Deploy.Setting("Floe.Store").StartsWith("az://", StringComparison.Ordinal), $"{file}: Floe.Store should be an az:// container");
        Assert.True(Deploy.Setting("Floe.LogFormat") is "json" or "text", $"{file}: Floe.LogFormat should be json or text");
        foreach (var (listen, portName) in new[] { ("Listen", "grpc"), ("HttpListen", "http") })
        {
            var address = new Uri(Deploy.Setting("Floe.Server." + listen));
            Assert.True(address.Port == Port(server, ports, portName), $"{file}: Floe.Server.{listen}'s port {address.Port} should be containerPort {portName} ({ports[portName]})");
            Assert.True(address.Host == "0.0.0.0", $"{file}: Floe.Server.{listen} should listen on 0.0.0.0, or the Service cannot reach it");
        }

        var exports = Deploy.Setting("Floe.Server.ExportRoot");
        Assert.True(Get(container, "volumeMounts").EnumerateArray().Any(m => Text(m, "mountPath") == exports && Text(m, "name") == "exports"),
            $"{file}: Floe.Server.ExportRoot {exports} should be where {server.Owner} mounts the exports volume");
        var grpcUrl = Deploy.Setting("Floe.Server.PublicGrpcUrl");
        Assert.True(grpcUrl == ServiceUrl("grpc"), $"{file}: Floe.Server.PublicGrpcUrl {grpcUrl} should be the Service's gRPC address {ServiceUrl("grpc")}");

        // Credentials live in the Secret, never in the ConfigMap.
        foreach (var secretish in new[] { "AccountKey", "SharedAccessSignature", "ConnectionString", "sig=" })
        {
            Assert.False(Deploy.AppSettingsText.Contains(secretish, StringComparison.OrdinalIgnoreCase), $"{file}: holds \"{secretish}\": credentials belong in the Secret floe-storage");
        }
    }

    [Fact]
    public void The_secrets_configmaps_and_volumes_the_pods_name_exist()
    {
        var secrets = Deploy.KubernetesObjects.Where(d => d.Kind == "Secret")
            .ToDictionary(d => d.Name, d => Get(d, "stringData").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!));
        var configMaps = Deploy.KubernetesObjects.Where(d => d.Kind == "ConfigMap").ToDictionary(d => d.Name, d => Get(d, "data").EnumerateObject().Select(p => p.Name).ToHashSet());
        var claims = Deploy.KubernetesObjects.Where(d => d.Kind == "PersistentVolumeClaim").ToDictionary(d => d.Name);
        foreach (var secret in Deploy.KubernetesObjects.Where(d => d.Kind == "Secret"))
        {
            Assert.True(Text(secret, "type") == "Opaque" && secret.File == "deploy/k8s/secret.yaml", $"{secret}: Secrets belong in deploy/k8s/secret.yaml, type Opaque");
        }

        foreach (var pod in Deploy.Pods)
        {
            var volumes = Items(Find(pod.Spec, "volumes")).ToDictionary(v => Text(v, "name"));
            foreach (var (name, volume) in volumes)
            {
                if (Find(volume, "secret") is { } secret)
                {
                    var secretName = Text(secret, "secretName");
                    Assert.True(secrets.TryGetValue(secretName, out var keys), $"{pod.Owner}: volume {name}: secret {secretName} is not in deploy/k8s/secret.yaml");
                    foreach (var item in Items(Find(secret, "items")))
                    {
                        Assert.True(keys.ContainsKey(Text(item, "key")), $"{pod.Owner}: volume {name}: Secret {secretName} has no key {Text(item, "key")}");
                    }
                }

                if (Find(volume, "configMap") is { } configMap)
                {
                    var mapName = Text(configMap, "name");
                    Assert.True(configMaps.TryGetValue(mapName, out var keys), $"{pod.Owner}: volume {name}: ConfigMap {mapName} does not exist");
                    foreach (var item in Items(Find(configMap, "items")))
                    {
                        Assert.True(keys.Contains(Text(item, "key")), $"{pod.Owner}: volume {name}: ConfigMap {mapName} has no key {Text(item, "key")}");
                    }
                }

                if (Find(volume, "persistentVolumeClaim") is { } claim)
                {
                    var claimName = Text(claim, "claimName");
                    Assert.True(claims.TryGetValue(claimName, out var pvc), $"{pod.Owner}: volume {name}: PersistentVolumeClaim {claimName} does not exist");
                    var modes = Get(pvc, "spec.accessModes").EnumerateArray().Select(m => m.GetString()).ToList();
                    var replicas = Find(pod.Owner.Root, "spec.replicas")?.GetInt32() ?? 1;
                    Assert.True(replicas <= 1 || modes.Contains("ReadWriteMany"), $"{pvc}: spec.accessModes should be ReadWriteMany: {replicas} replicas of {pod.Owner} mount it");
                }
            }

            foreach (var container in Containers(pod))
            {
                var where = $"{pod.Owner}: container {Text(container, "name")}";
                var mounts = Items(Find(container, "volumeMounts")).ToList();
                foreach (var mount in mounts)
                {
                    Assert.True(volumes.ContainsKey(Text(mount, "name")), $"{where}: volumeMounts {Text(mount, "name")} names no volume of the pod");
                }

                foreach (var env in Items(Find(container, "env")))
                {
                    var name = Text(env, "name");
                    if (Find(env, "valueFrom.secretKeyRef") is { } secretRef)
                    {
                        Assert.True(secrets.TryGetValue(Text(secretRef, "name"), out var keys) && keys.ContainsKey(Text(secretRef, "key")),
                            $"{where}: env {name}: secretKeyRef {Text(secretRef, "name")}/{Text(secretRef, "key")} is not in deploy/k8s/secret.yaml");
                    }

                    if (Find(env, "valueFrom.configMapKeyRef") is { } mapRef)
                    {
                        Assert.True(configMaps.TryGetValue(Text(mapRef, "name"), out var keys) && keys.Contains(Text(mapRef, "key")),
                            $"{where}: env {name}: configMapKeyRef {Text(mapRef, "name")}/{Text(mapRef, "key")} does not exist");
                    }

                    if (name == "FLOE_SOURCE_CREDENTIALS")
                    {
                        // The file must be a key of a Secret volume this container mounts.
                        var path = Text(env, "value");
                        var provided = mounts.SelectMany(m => Items(Find(volumes[Text(m, "name")], "secret.items"))
                            .Select(i => (Path: Text(m, "mountPath") + "/" + Text(i, "path"), Key: Text(i, "key")))).ToList();
                        Assert.True(provided.Any(p => p.Path == path && p.Key == "source-credentials.json"),
                            $"{where}: env FLOE_SOURCE_CREDENTIALS {path} is not the mounted Secret key source-credentials.json ({string.Join(", ", provided.Select(p => p.Path))})");
                    }

                    if (name.StartsWith("Floe__", StringComparison.Ordinal))
                    {
                        AssertConfigurationKey($"{where}: env", name.Replace("__", ":", StringComparison.Ordinal));
                    }
                }
            }
        }

        // The credentials file is what the CLI reads, and its prefixes are sources the server allows.
        var storage = secrets["floe-storage"];
        using var credentials = JsonDocument.Parse(storage["source-credentials.json"]);
        var allowed = Deploy.AllowedSources;
        Assert.True(credentials.RootElement.ValueKind == JsonValueKind.Array && credentials.RootElement.GetArrayLength() > 0, "deploy/k8s/secret.yaml: floe-storage source-credentials.json should be a JSON array");
        foreach (var entry in credentials.RootElement.EnumerateArray())
        {
            var prefix = entry.TryGetProperty("prefix", out var p) ? p.GetString() : null;
            Assert.True(prefix is { Length: > 0 } && entry.TryGetProperty("connectionString", out var c) && c.GetString() is { Length: > 0 },
                $"deploy/k8s/secret.yaml: source-credentials.json: every entry needs \"prefix\" and \"connectionString\": {entry}");
            Assert.True(allowed.Contains(prefix), $"deploy/k8s/secret.yaml: source-credentials.json: prefix {prefix} is not in the ConfigMap's Floe.Sources.Allowed");
        }

        // Only placeholders are committed.
        foreach (var (name, keys) in secrets)
        {
            foreach (var (key, value) in keys)
            {
                Assert.True(value.Contains("REPLACE_ME", StringComparison.Ordinal), $"deploy/k8s/secret.yaml: {name}/{key} should hold a REPLACE_ME placeholder, never a real secret");
                Assert.False(Regex.IsMatch(value, "AccountKey=(?!REPLACE_ME)"), $"deploy/k8s/secret.yaml: {name}/{key} holds an AccountKey other than REPLACE_ME");
            }
        }
    }

    [Fact]
    public void Every_pod_runs_as_the_images_non_root_user_on_a_read_only_root()
    {
        var user = Deploy.Dockerfile.Stages[^1].Last("USER");
        Assert.True(int.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var uid) && uid > 0,
            $"deploy/Dockerfile: the final stage's USER {user} should be a non-zero number, so runAsNonRoot can verify it");
        foreach (var pod in Deploy.Pods)
        {
            Assert.True(Find(pod.Spec, "automountServiceAccountToken")?.ValueKind == JsonValueKind.False, $"{pod.Owner}: spec.template.spec.automountServiceAccountToken should be false");
            var volumes = Items(Find(pod.Spec, "volumes")).ToDictionary(v => Text(v, "name"));
            foreach (var container in Containers(pod))
            {
                var where = $"{pod.Owner}: container {Text(container, "name")}";
                bool? Flag(string field) => (Find(container, "securityContext." + field) ?? Find(pod.Spec, "securityContext." + field)) is { } v ? v.ValueKind == JsonValueKind.True : null;
                Assert.True(Flag("runAsNonRoot") == true, $"{where}: securityContext.runAsNonRoot should be true");
                var runAs = Find(container, "securityContext.runAsUser") ?? Find(pod.Spec, "securityContext.runAsUser");
                Assert.True(runAs?.GetInt32() == uid, $"{where}: securityContext.runAsUser {runAs} should be the Dockerfile's USER {uid}");
                Assert.True(Find(container, "securityContext.readOnlyRootFilesystem")?.ValueKind == JsonValueKind.True, $"{where}: securityContext.readOnlyRootFilesystem should be true");
                Assert.True(Find(container, "securityContext.allowPrivilegeEscalation")?.ValueKind == JsonValueKind.False, $"{where}: securityContext.allowPrivilegeEscalation should be false");
                Assert.True(Items(Find(container, "securityContext.capabilities.drop")).Any(c => c.GetString() == "ALL"), $"{where}: securityContext.capabilities.drop should hold ALL");
                var tmp = Items(Find(container, "volumeMounts")).FirstOrDefault(m => Text(m, "mountPath") == "/tmp");
                Assert.True(tmp is { ValueKind: JsonValueKind.Object } mount && volumes.TryGetValue(Text(mount, "name"), out var volume) && Find(volume, "emptyDir") is not null,
                    $"{where}: a read-only root needs an emptyDir mounted at /tmp");
                Assert.True(Find(container, "resources.limits.memory") is not null && Find(container, "resources.requests.memory") is not null, $"{where}: resources.requests.memory and resources.limits.memory should be set");
            }
        }
    }

    [Fact]
    public void The_dockerfile_builds_from_what_the_context_holds_and_exposes_what_the_pods_use()
    {
        const string file = "deploy/Dockerfile";
        var dockerfile = Deploy.Dockerfile;
        Assert.True(dockerfile.Stages.Count >= 2, $"{file}: should be multi-stage (a build stage and a runtime stage), has {dockerfile.Stages.Count} FROM");
        var framework = XDocument.Load(Path.Combine(Deploy.Root, "Directory.Build.props")).Descendants("TargetFramework").Single().Value;
        var version = framework["net".Length..];
        Assert.True(dockerfile.Stages[0].Image == $"mcr.microsoft.com/dotnet/sdk:{version}", $"{file}: the build stage should be FROM mcr.microsoft.com/dotnet/sdk:{version} ({framework})");
        Assert.True(dockerfile.Stages[^1].Image == $"mcr.microsoft.com/dotnet/aspnet:{version}", $"{file}: the final stage should be FROM mcr.microsoft.com/dotnet/aspnet:{version} (the server is ASP.NET Core)");

        // COPY --from names an earlier stage; other COPY sources exist in the context (the repository root).
        var copied = new List<string>();
        for (var s = 0; s < dockerfile.Stages.Count; s++)
        {
            foreach (var copy in dockerfile.Stages[s].All("COPY"))
            {
                var words = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words[0].StartsWith("--from=", StringComparison.Ordinal))
                {
                    var from = words[0]["--from=".Length..];
                    Assert.True(dockerfile.Stages.Take(s).Any(earlier => earlier.Name == from), $"{file}: COPY --from={from} names no earlier stage");
                    continue;
                }

                foreach (var source in words[..^1])
                {
                    Assert.True(File.Exists(Path.Combine(Deploy.Root, source)) || Directory.Exists(Path.Combine(Deploy.Root, source)), $"{file}: COPY {source}: not in the repository root, the build context");
                    copied.Add(source.TrimEnd('/'));
                }
            }
        }

        // Files the published projects take from outside src/ and protos/ (tests/Fixtures, tests/Shared) are copied too.
        foreach (var project in Directory.EnumerateFiles(Path.Combine(Deploy.Root, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            foreach (var include in XDocument.Load(project).Descendants().Select(e => e.Attribute("Include")?.Value).OfType<string>().Where(i => i.StartsWith("../", StringComparison.Ordinal)))
            {
                var needed = Path.GetRelativePath(Deploy.Root, Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, include))).Replace('\\', '/');
                if (needed.StartsWith("src/", StringComparison.Ordinal) || needed.StartsWith("protos/", StringComparison.Ordinal))
                {
                    continue;
                }

                Assert.True(copied.Any(c => needed == c || needed.StartsWith(c + "/", StringComparison.Ordinal)),
                    $"{file}: {Path.GetRelativePath(Deploy.Root, project)} includes {needed}, which no COPY brings into the build");
                Assert.True(File.ReadAllLines(Path.Combine(Deploy.Root, "deploy", "Dockerfile.dockerignore")).Contains("!" + needed),
                    $"deploy/Dockerfile.dockerignore: {needed} is needed by the build: add !{needed}");
            }
        }

        var publish = PublishCommand().Match(string.Join("\n", dockerfile.Stages[0].All("RUN")));
        Assert.True(publish.Success, $"{file}: the build stage has no `dotnet publish PROJECT ... -o DIR`");
        var projectPath = Path.Combine(Deploy.Root, publish.Groups["project"].Value);
        Assert.True(File.Exists(projectPath), $"{file}: dotnet publish {publish.Groups["project"].Value}: no such project");
        var assembly = XDocument.Load(projectPath).Descendants("AssemblyName").SingleOrDefault()?.Value ?? Path.GetFileNameWithoutExtension(projectPath);
        var output = publish.Groups["output"].Value.TrimEnd('/');
        Assert.True(dockerfile.Stages[^1].All("COPY").Any(c => c.StartsWith($"--from={dockerfile.Stages[0].Name} {output} ", StringComparison.Ordinal)),
            $"{file}: the final stage should COPY --from={dockerfile.Stages[0].Name} {output}");
        var entrypoint = JsonSerializer.Deserialize<string[]>(dockerfile.Stages[^1].Last("ENTRYPOINT"))!;
        Assert.True(entrypoint.SequenceEqual(["dotnet", $"{output}/{assembly}.dll"]) || entrypoint.SequenceEqual([$"{output}/{assembly}"]),
            $"{file}: ENTRYPOINT {string.Join(" ", entrypoint)} should run {output}/{assembly}.dll, what dotnet publish writes");
        Assert.True(dockerfile.Stages[^1].All("RUN").Any(r => r.Contains("libzstd1", StringComparison.Ordinal)), $"{file}: the final stage should install libzstd1 (Floe.Core calls libzstd.so.1)");

        // EXPOSE lists the server's containerPorts; the default CMD is the Deployment's command.
        var (server, container) = Deploy.ServerContainer;
        var exposed = dockerfile.Stages[^1].All("EXPOSE").SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => int.Parse(p.Split('/')[0], CultureInfo.InvariantCulture)).Order();
        Assert.True(exposed.SequenceEqual(ContainerPorts(server, container).Values.Order()), $"{file}: EXPOSE {string.Join(" ", exposed)} should be the containerPorts of {server.Owner}");
        var cmd = JsonSerializer.Deserialize<string[]>(dockerfile.Stages[^1].Last("CMD"))!;
        Assert.True(cmd.SequenceEqual(Args(container)), $"{file}: CMD {string.Join(" ", cmd)} should be the server Deployment's args {string.Join(" ", Args(container))}");
    }

    [Fact]
    public void The_server_runs_floe_serve_with_the_mounted_configmap()
    {
        var (server, container) = Deploy.ServerContainer;
        var args = Args(container);
        var parse = ParseFloe(server.Owner.ToString(), args, "serve");
        Assert.True(parse.UnmatchedTokens.Count == 0, $"{server.Owner}: args: floe serve does not know {string.Join(" ", parse.UnmatchedTokens)}");
        var config = parse.GetValue<string>("--config");
        var mounted = Get(container, "volumeMounts").EnumerateArray()
            .SelectMany(m => Items(Find(Volume(server, Text(m, "name")), "configMap.items")).Select(i => (Path: Text(m, "mountPath") + "/" + Text(i, "path"), Key: Text(i, "key"))))
            .ToList();
        Assert.True(mounted.Any(m => m.Path == config && m.Key == "appsettings.json"), $"{server.Owner}: --config {config} is not the mounted ConfigMap key appsettings.json");
        Assert.True(Find(server.Owner.Root, "spec.replicas")?.GetInt32() >= 2, $"{server.Owner}: spec.replicas: run at least two servers");
        Assert.True(Find(server.Spec, "terminationGracePeriodSeconds")?.GetInt32() > 30, $"{server.Owner}: terminationGracePeriodSeconds should exceed the host's 30 s shutdown timeout");
    }

    [Fact]
    public async Task The_jobs_run_real_floe_commands_that_shard_and_merge_one_ingestion()
    {
        // Step 1: floe remote create NAME, against the Service.
        var create = Deploy.Object("Job", "floe-create-repo-imerg");
        var createArgs = Args(SingleContainer(create));
        var created = ParseFloe(create.ToString(), createArgs, "remote create");
        var repository = created.GetValue<string>("repository")!;
        RepositoryCatalog.ValidateName(repository);
        var server = created.GetValue<string>("--server")!;
        Assert.True(server == ServiceUrl("grpc"), $"{create}: --server {server} should be the Service's gRPC address {ServiceUrl("grpc")}");
        Assert.True(Items(Find(SingleContainer(create), "env")).Any(e => Text(e, "name") == "FLOE_TOKEN" && Find(e, "valueFrom.secretKeyRef") is not null), $"{create}: env FLOE_TOKEN should come from a Secret");

        // Step 2: the Indexed Job; every index is a valid part of the same count.
        var ingest = Deploy.Object("Job", "floe-ingest-imerg");
        Assert.True(Text(ingest, "spec.completionMode") == "Indexed", $"{ingest}: spec.completionMode should be Indexed");
        var completions = Get(ingest, "spec.completions").GetInt32();
        Assert.True(Get(ingest, "spec.parallelism").GetInt32() is var parallelism && parallelism >= 1 && parallelism <= completions, $"{ingest}: spec.parallelism should be 1..completions");
        Assert.True(Find(ingest.Root, "spec.backoffLimitPerIndex")?.GetInt32() >= 1, $"{ingest}: spec.backoffLimitPerIndex should retry a failed part");
        Assert.True(Find(ingest.Root, "spec.maxFailedIndexes")?.GetInt32() is { } maxFailed && maxFailed <= completions, $"{ingest}: spec.maxFailedIndexes should be set, at most completions");
        Assert.True(Text(ingest, "spec.template.spec.restartPolicy") == "Never", $"{ingest}: spec.template.spec.restartPolicy must be Never with backoffLimitPerIndex");
        Assert.True(Find(ingest.Root, "spec.podFailurePolicy") is null || Text(ingest, "spec.podReplacementPolicy") == "Failed", $"{ingest}: with a podFailurePolicy, spec.podReplacementPolicy must be Failed");
        var container = SingleContainer(ingest);
        var env = Get(container, "env").EnumerateArray().Where(e => Find(e, "value") is not null).ToDictionary(e => Text(e, "name"), e => Text(e, "value"));
        Assert.True(env.TryGetValue(IngestShard.CountVariable, out var count) && count == completions.ToString(CultureInfo.InvariantCulture),
            $"{ingest}: env {IngestShard.CountVariable} should be \"{completions}\", spec.completions (it is {count ?? "missing"})");
        Assert.False(env.ContainsKey(IngestShard.IndexVariable), $"{ingest}: env {IngestShard.IndexVariable} is set by Kubernetes, per pod");
        Assert.True(Items(Find(container, "env")).Any(e => Text(e, "name") == "AZURE_STORAGE_CONNECTION_STRING" && Find(e, "valueFrom.secretKeyRef") is not null),
            $"{ingest}: env AZURE_STORAGE_CONNECTION_STRING (the store's account for --repo az://...) should come from a Secret");

        var args = Args(container);
        var parse = ParseFloe(ingest.ToString(), args, "ingest");
        Assert.True(parse.GetValue<string>("--shard") == "env", $"{ingest}: args should include --shard env");
        var parts = Enumerable.Range(0, completions).Select(i => IngestShard.Parse(parse.GetValue<string>("--shard")!,
            name => name == IngestShard.IndexVariable ? i.ToString(CultureInfo.InvariantCulture) : env.GetValueOrDefault(name))).ToList();
        Assert.True(parts.Select(p => (p.Index, p.Count)).SequenceEqual(Enumerable.Range(0, completions).Select(i => (i, completions))), $"{ingest}: --shard env does not give parts 0..{completions - 1} of {completions}");

        // The repository is the one step 1 registers, where the servers keep it (repos/NAME/ of their store).
        var store = Deploy.Setting("Floe.Store");
        Assert.True(parse.GetValue<string>("--repo") == $"{store.TrimEnd('/')}/repos/{repository}",
            $"{ingest}: --repo {parse.GetValue<string>("--repo")} should be {store.TrimEnd('/')}/repos/{repository}, the repository {create} registers in the servers' store");

        // The source is a real template: it expands, under a prefix the servers allow, with at least one file per part.
        SourceSet sources;
        try
        {
            sources = SourceSets.Create(null, null, null, parse.GetValue<string>("--template"),
                IngestCommand.ParseTime(parse.GetValue<string>("--start"), "--start"), IngestCommand.ParseTime(parse.GetValue<string>("--end"), "--end"),
                parse.GetValue<string>("--every") is { } every ? Durations.Parse(every) : null, null);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Assert.Fail($"{ingest}: args: floe ingest would stop with: {e.Message}");
            throw;
        }
        Assert.True(sources.Count >= completions, $"{ingest}: the source has {sources.Count} files for {completions} parts");
        SourceFile? first = null;
        await foreach (var source in sources.EnumerateAsync())
        {
            first = source;
            break;
        }

        var allowed = Deploy.AllowedSources;
        Assert.True(first is not null && allowed.Any(a => first.Location.StartsWith(a, StringComparison.Ordinal)),
            $"{ingest}: the first source file {first?.Location} is under none of the ConfigMap's Floe.Sources.Allowed ({string.Join(", ", allowed)})");
        Assert.True(first!.Location.EndsWith("/1998/001/3B-HHR.MS.MRG.3IMERG.19980101-S000000-E002959.0000.V07B.HDF5", StringComparison.Ordinal),
            $"{ingest}: the first source file {first.Location} is not named as NASA names IMERG half-hourly files");

        // Step 3: the merge, the same command with --merge for --shard env, so it derives the same job name.
        var merge = Deploy.Object("Job", "floe-ingest-imerg-merge");
        var mergeArgs = Args(SingleContainer(merge));
        var merged = ParseFloe(merge.ToString(), mergeArgs, "ingest");
        Assert.True(merged.GetValue<bool>("--merge") && merged.GetValue<string>("--shard") is null, $"{merge}: args should include --merge and no --shard");
        var shardAt = Array.IndexOf(args, "--shard");
        var mergeAt = Array.IndexOf(mergeArgs, "--merge");
        Assert.True(args.Take(shardAt).Concat(args.Skip(shardAt + 2)).SequenceEqual(mergeArgs.Take(mergeAt).Concat(mergeArgs.Skip(mergeAt + 1))),
            $"{merge}: args should be {ingest}'s with --merge for --shard env: [{string.Join(" ", mergeArgs)}] vs [{string.Join(" ", args)}]");
        Assert.True(Get(SingleContainer(merge), "env").EnumerateArray().Select(e => Text(e, "name")).ToHashSet()
                .SetEquals(Get(container, "env").EnumerateArray().Select(e => Text(e, "name")).Where(n => n != IngestShard.CountVariable)),
            $"{merge}: env should be {ingest}'s without {IngestShard.CountVariable} (the same store and source credentials)");
        foreach (var job in new[] { create, ingest, merge })
        {
            Assert.True(job.File.StartsWith("deploy/k8s/jobs/", StringComparison.Ordinal), $"{job}: one-off Jobs live in deploy/k8s/jobs/, outside the kustomization");
        }
    }

    [Fact]
    public void Compose_runs_the_image_against_azurite()
    {
        const string file = "deploy/local/compose.yaml";
        var azurite = Deploy.ComposeService("azurite");
        var floe = Deploy.ComposeService("floe");
        Assert.True(Text(azurite, "image").StartsWith("mcr.microsoft.com/azure-storage/azurite", StringComparison.Ordinal), $"{file}: services.azurite.image should be mcr.microsoft.com/azure-storage/azurite");
        var azuriteCommand = Get(azurite, "command").EnumerateArray().Select(a => a.GetString()!).ToList();
        var blobPort = azuriteCommand[azuriteCommand.IndexOf("--blobPort") + 1];
        Assert.True(azuriteCommand[0] == "azurite-blob" && azuriteCommand[azuriteCommand.IndexOf("--blobHost") + 1] == "0.0.0.0", $"{file}: services.azurite.command should run azurite-blob on 0.0.0.0");

        var context = Path.GetFullPath(Path.Combine(Deploy.Root, "deploy", "local", Text(floe, "build.context")));
        Assert.True(File.Exists(Path.Combine(context, "Orleans.sln")), $"{file}: services.floe.build.context should be the repository root, as for docker build");
        Assert.True(Path.GetFullPath(Path.Combine(context, Text(floe, "build.dockerfile"))) == Path.Combine(Deploy.Root, "deploy", "Dockerfile"), $"{file}: services.floe.build.dockerfile should be deploy/Dockerfile");
        var dependsOn = Get(floe, "depends_on") is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray().Select(d => d.GetString()) : Get(floe, "depends_on").EnumerateObject().Select(p => p.Name);
        Assert.True(dependsOn.Contains("azurite"), $"{file}: services.floe.depends_on should name azurite");

        var environment = Get(floe, "environment").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.ToString());
        foreach (var key in environment.Keys.Where(k => k.StartsWith("Floe__", StringComparison.Ordinal)))
        {
            AssertConfigurationKey($"{file}: services.floe.environment", key.Replace("__", ":", StringComparison.Ordinal));
        }

        Assert.True(environment.GetValueOrDefault("Floe__Store", "").StartsWith("az://", StringComparison.Ordinal), $"{file}: services.floe.environment Floe__Store should be an az:// container");
        var connection = environment.GetValueOrDefault("Floe__StoreConnectionString", "");
        Assert.True(connection.Contains($"BlobEndpoint=http://azurite:{blobPort}/devstoreaccount1", StringComparison.Ordinal),
            $"{file}: services.floe.environment Floe__StoreConnectionString should name BlobEndpoint=http://azurite:{blobPort}/devstoreaccount1 (the azurite service's --blobPort)");
        Assert.True(connection.Contains($"AccountName=devstoreaccount1;AccountKey={AzuriteKey}", StringComparison.Ordinal),
            $"{file}: services.floe.environment Floe__StoreConnectionString should use the emulator's development account and key");
        Assert.True(environment["Floe__Auth__Tokens__0__Sha256"] == AccessPolicy.Hash(LocalDevToken), $"{file}: services.floe.environment Floe__Auth__Tokens__0__Sha256 should be the hash of {LocalDevToken}");
        Assert.True(File.ReadAllText(Path.Combine(Deploy.Root, "docs", "operations.md")).Contains(LocalDevToken, StringComparison.Ordinal), $"docs/operations.md: should give the local token {LocalDevToken}");

        // Published ports are the image's, and the ones the server listens on.
        var published = Get(floe, "ports").EnumerateArray().Select(p => p.GetString()!.Split(':')).ToList();
        Assert.True(published.All(p => p.Length == 2 && p[0] == p[1]), $"{file}: services.floe.ports should publish each port as itself");
        var exposed = Deploy.Dockerfile.Stages[^1].All("EXPOSE").SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Order(StringComparer.Ordinal);
        Assert.True(published.Select(p => p[1]).Order(StringComparer.Ordinal).SequenceEqual(exposed), $"{file}: services.floe.ports should be the Dockerfile's EXPOSE {string.Join(" ", exposed)}");
        var (server, container) = Deploy.ServerContainer;
        var grpc = new Uri(environment["Floe__Server__Listen"]).Port;
        Assert.True(grpc == Port(server, ContainerPorts(server, container), "grpc") && published.Any(p => p[1] == grpc.ToString(CultureInfo.InvariantCulture)),
            $"{file}: Floe__Server__Listen's port {grpc} should be published and be the image's gRPC port");
        var http = new Uri(environment["Floe__Server__HttpListen"]).Port.ToString(CultureInfo.InvariantCulture);
        Assert.True(published.Any(p => p[1] == http), $"{file}: Floe__Server__HttpListen's port {http} is not published");
        Assert.True(Items(Find(azurite, "ports")).Any(p => p.GetString() == $"{blobPort}:{blobPort}"), $"{file}: services.azurite.ports should publish the blob port {blobPort}");
        if (Find(floe, "healthcheck.test") is { } test)
        {
            var line = string.Join(" ", test.EnumerateArray().Select(t => t.GetString()));
            Assert.True(line.Contains($"/{http}", StringComparison.Ordinal) && line.Contains("/healthz", StringComparison.Ordinal), $"{file}: services.floe.healthcheck should ask port {http} for /healthz");
            Assert.False(Regex.IsMatch(line, @"\b(curl|wget)\b"), $"{file}: services.floe.healthcheck: the aspnet image has no curl or wget");
        }
    }

    private static void AssertConfigurationKey(string where, string key)
    {
        var segments = key.Split(':');
        if (segments[0] == "Logging")
        {
            return;
        }

        Assert.True(segments[0] == "Floe", $"{where}: {key}: the server reads only the Floe and Logging sections");
        // Floe:LogFormat is read straight from the configuration, not through FloeOptions.
        if (key == "Floe:LogFormat")
        {
            return;
        }

        // Added with the Azure backend; checked like any other key once FloeOptions has it.
        if (key == "Floe:StoreConnectionString" && typeof(FloeOptions).GetProperty("StoreConnectionString") is null)
        {
            return;
        }

        var type = typeof(FloeOptions);
        for (var i = 1; i < segments.Length; i++)
        {
            if (type != typeof(string) && type.GetInterfaces().FirstOrDefault(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IList<>)) is { } list)
            {
                Assert.True(int.TryParse(segments[i], NumberStyles.None, CultureInfo.InvariantCulture, out _), $"{where}: {key}: {segments[i]} should be a list index");
                type = list.GetGenericArguments()[0];
                continue;
            }

            var property = type.GetProperty(segments[i], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            Assert.True(property is { CanWrite: true }, $"{where}: {key}: {type.Name} has no setting {segments[i]} (a misspelt key is ignored by the server)");
            type = property!.PropertyType;
        }
    }

    private static ParseResult ParseFloe(string where, string[] args, string expected)
    {
        var root = new RootCommand("floe");
        foreach (var command in Commands.All())
        {
            root.Subcommands.Add(command);
        }

        var parse = root.Parse(args);
        Assert.True(parse.Errors.Count == 0, $"{where}: args [{string.Join(" ", args)}]: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        var path = new List<string>();
        for (var result = parse.CommandResult; result.Parent is not null; result = (System.CommandLine.Parsing.CommandResult)result.Parent)
        {
            path.Insert(0, result.Command.Name);
        }

        Assert.True(string.Join(" ", path) == expected, $"{where}: args [{string.Join(" ", args)}] run floe {string.Join(" ", path)}, not floe {expected}");
        return parse;
    }

    private static string ServiceUrl(string portName)
    {
        var service = Deploy.Object("Service", "floe");
        var port = Get(service, "spec.ports").EnumerateArray().Single(p => Text(p, "name") == portName).GetProperty("port").GetInt32();
        return $"http://{service.Name}.{Text(service, "metadata.namespace")}.svc.cluster.local:{port}";
    }

    private static Dictionary<string, int> ContainerPorts(Pod pod, JsonElement container) =>
        Find(container, "ports")?.EnumerateArray().ToDictionary(p => Text(p, "name"), p => p.GetProperty("containerPort").GetInt32())
        ?? throw new InvalidOperationException($"{pod.Owner}: container {Text(container, "name")} has no ports");

    private static int Port(Pod pod, Dictionary<string, int> ports, string name) =>
        ports.TryGetValue(name, out var port) ? port : throw new InvalidOperationException($"{pod.Owner}: no containerPort named {name} ({string.Join(", ", ports.Keys)})");

    private static JsonElement Volume(Pod pod, string name) =>
        Get(pod.Spec, "volumes").EnumerateArray().SingleOrDefault(v => Text(v, "name") == name) is { ValueKind: JsonValueKind.Object } volume
            ? volume
            : throw new InvalidOperationException($"{pod.Owner}: no volume {name}");

    private static string[] Args(JsonElement container) => Get(container, "args").EnumerateArray().Select(a => a.GetString()!).ToArray();

    private static IEnumerable<JsonElement> Containers(Pod pod) =>
        Get(pod.Spec, "containers").EnumerateArray().Concat(Items(Find(pod.Spec, "initContainers")));

    private static IEnumerable<JsonElement> Items(JsonElement? array) => array is { ValueKind: JsonValueKind.Array } items ? items.EnumerateArray() : [];

    private static JsonElement SingleContainer(Doc job)
    {
        var containers = Get(job, "spec.template.spec.containers").EnumerateArray().ToList();
        Assert.True(containers.Count == 1, $"{job}: expected one container");
        return containers[0];
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    // A dotted path; "\." escapes a dot inside a key (label names).
    private static JsonElement? Find(JsonElement element, string path)
    {
        foreach (var segment in Regex.Split(path, @"(?<!\\)\.").Select(s => s.Replace("\\.", ".", StringComparison.Ordinal)))
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segment, out element))
            {
                return null;
            }
        }

        return element;
    }

    private static JsonElement Get(JsonElement element, string path) =>
        Find(element, path) ?? throw new InvalidOperationException($"{path} is missing in {Truncate(element.ToString())}");

    private static JsonElement Get(Doc doc, string path) =>
        Find(doc.Root, path) ?? throw new InvalidOperationException($"{doc}: {path} is missing");

    private static string Text(JsonElement element, string path) => Get(element, path).ToString();

    private static string Text(Doc doc, string path) => Find(doc.Root, path)?.ToString() ?? "";

    private static string Truncate(string text) => text.Length > 200 ? text[..200] + "…" : text;

    [GeneratedRegex(@"docker build -f deploy/Dockerfile -t (\S+) \.")]
    private static partial Regex DockerBuildCommand();

    [GeneratedRegex(@"dotnet publish (?<project>\S+\.csproj)\b.*?-o (?<output>\S+)")]
    private static partial Regex PublishCommand();

    /// <summary>One YAML document of a file under deploy/, as JSON.</summary>
    private sealed record Doc(string File, int Index, JsonElement Root)
    {
        public string Kind => Find(Root, "kind")?.GetString() ?? "";

        public string Name => Find(Root, "metadata.name")?.GetString() ?? "";

        public override string ToString() => $"{File} ({Kind} {Name})";
    }

    /// <summary>The pod template of a Deployment or Job.</summary>
    private sealed record Pod(Doc Owner, JsonElement Spec);

    private sealed record YamlFile(IReadOnlyList<JsonElement> Documents, string? Error);

    /// <summary>A Dockerfile's stages: the image, the name and the instructions (continuation lines joined).</summary>
    private sealed record DockerStage(string Image, string? Name, IReadOnlyList<(string Instruction, string Arguments)> Instructions)
    {
        public IEnumerable<string> All(string instruction) => Instructions.Where(i => i.Instruction == instruction).Select(i => i.Arguments);

        public string Last(string instruction) => All(instruction).LastOrDefault() ?? throw new InvalidOperationException($"deploy/Dockerfile: the stage FROM {Image} has no {instruction}");
    }

    private sealed record DockerFile(IReadOnlyList<DockerStage> Stages)
    {
        public static DockerFile Parse(string text)
        {
            var stages = new List<DockerStage>();
            List<(string, string)>? instructions = null;
            foreach (var line in Regex.Replace(text, @"\\\r?\n", " ").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                var (instruction, arguments) = space < 0 ? (line.ToUpperInvariant(), "") : (line[..space].ToUpperInvariant(), Regex.Replace(line[(space + 1)..].Trim(), @"\s+", " "));
                if (instruction == "FROM")
                {
                    var words = arguments.Split(' ');
                    instructions = [];
                    stages.Add(new DockerStage(words[0], words.Length >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null, instructions));
                    continue;
                }

                (instructions ?? throw new InvalidOperationException($"deploy/Dockerfile: {instruction} before any FROM")).Add((instruction, arguments));
            }

            return new DockerFile(stages);
        }
    }

    private sealed class DeployFiles
    {
        private readonly Lazy<(Pod, JsonElement)> _server;
        private readonly Lazy<(string Text, JsonElement Json)> _settings;
        private readonly Lazy<DockerFile> _dockerfile;

        private DeployFiles(string root, Dictionary<string, YamlFile> yaml)
        {
            Root = root;
            Yaml = yaml;
            // Files that do not parse contribute nothing here; the parse test names them.
            KubernetesObjects = [.. yaml.Where(f => f.Key.StartsWith("deploy/k8s/", StringComparison.Ordinal) && f.Key != "deploy/k8s/kustomization.yaml")
                .SelectMany(f => f.Value.Documents.Select((d, i) => new Doc(f.Key, i, d)))];
            Pods = [.. KubernetesObjects.Where(d => d.Kind is "Deployment" or "Job").Select(d => new Pod(d, Get(d, "spec.template.spec")))];
            _server = new(() =>
            {
                var server = Pods.SingleOrDefault(p => p.Owner.Kind == "Deployment" && p.Owner.Name == "floe-server")
                    ?? throw new InvalidOperationException("deploy/k8s/server.yaml: no Deployment floe-server");
                return (server, Items(Find(server.Spec, "containers")).SingleOrDefault(c => Find(c, "name")?.GetString() == "floe") is { ValueKind: JsonValueKind.Object } container
                    ? container
                    : throw new InvalidOperationException($"{server.Owner}: no container named floe"));
            });
            _settings = new(() =>
            {
                var text = Object("ConfigMap", "floe-config") is var map && Find(map.Root, "data.appsettings\\.json") is { ValueKind: JsonValueKind.String } value
                    ? value.GetString()!
                    : throw new InvalidOperationException("deploy/k8s/configmap.yaml: ConfigMap floe-config has no data.appsettings.json");
                try
                {
                    using var settings = JsonDocument.Parse(text);
                    return (text, settings.RootElement.Clone());
                }
                catch (JsonException e)
                {
                    throw new InvalidOperationException($"deploy/k8s/configmap.yaml: data.appsettings.json is not JSON: {e.Message}", e);
                }
            });
            _dockerfile = new(() => DockerFile.Parse(File.ReadAllText(Path.Combine(root, "deploy", "Dockerfile"))));
        }

        public string Root { get; }

        /// <summary>Every YAML file under deploy/, by path from the repository root.</summary>
        public Dictionary<string, YamlFile> Yaml { get; }

        public DockerFile Dockerfile => _dockerfile.Value;

        /// <summary>The documents of the manifests under deploy/k8s (the kustomization aside).</summary>
        public List<Doc> KubernetesObjects { get; }

        public List<Pod> Pods { get; }

        public (Pod Pod, JsonElement Container) ServerContainer => _server.Value;

        /// <summary>The ConfigMap's appsettings.json.</summary>
        public string AppSettingsText => _settings.Value.Text;

        public IReadOnlyList<string> AllowedSources =>
            Items(Find(_settings.Value.Json, "Floe.Sources.Allowed")).Select(a => a.GetString()!).ToList() is { Count: > 0 } allowed
                ? allowed
                : throw new InvalidOperationException("deploy/k8s/configmap.yaml: data.appsettings.json: Floe.Sources.Allowed is missing or empty");

        /// <summary>A string setting of the ConfigMap's appsettings.json, by dotted path.</summary>
        public string Setting(string path) =>
            Find(_settings.Value.Json, path) is { ValueKind: JsonValueKind.String } value
                ? value.GetString()!
                : throw new InvalidOperationException($"deploy/k8s/configmap.yaml: data.appsettings.json: {path} is missing or not a string");

        public static DeployFiles Load()
        {
            var root = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(root, "Orleans.sln")))
            {
                root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new InvalidOperationException($"no Orleans.sln above {AppContext.BaseDirectory}");
            }

            var files = Directory.EnumerateFiles(Path.Combine(root, "deploy"), "*.*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
            var parsed = OraclePython.RunJson(ParseYaml, files);
            var yaml = files.ToDictionary(
                f => Path.GetRelativePath(root, f).Replace('\\', '/'),
                f => parsed.GetProperty(f) is var result && result.TryGetProperty("error", out var error)
                    ? new YamlFile([], error.GetString())
                    : new YamlFile([.. result.GetProperty("documents").EnumerateArray()], null));
            return new DeployFiles(root, yaml);
        }

        public Doc Single(string file) =>
            Yaml.TryGetValue(file, out var parsed) && parsed.Documents.Count == 1 ? new Doc(file, 0, parsed.Documents[0]) : throw new InvalidOperationException($"{file}: expected one YAML document");

        public Doc Object(string kind, string name) =>
            KubernetesObjects.SingleOrDefault(d => d.Kind == kind && d.Name == name) ?? throw new InvalidOperationException($"deploy/k8s: no {kind} {name}");

        public JsonElement ComposeService(string name) =>
            Find(Single("deploy/local/compose.yaml").Root, "services." + name) ?? throw new InvalidOperationException($"deploy/local/compose.yaml: no services.{name}");
    }
}
