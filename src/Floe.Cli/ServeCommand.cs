using System.CommandLine;
using System.Text.Json;
using Floe.Server;
using Microsoft.Extensions.Hosting;

namespace Floe.Cli;

/// <summary>`floe serve` (the gRPC server, docs/api.md) and `floe token create` (a bearer token and its configuration line).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var store = new Option<string?>("--store") { Description = "The object store directory (Floe:Store; default ./floe-data)" };
        var listen = new Option<string?>("--listen") { Description = "gRPC address (Floe:Server:Listen; default http://127.0.0.1:7700)" };
        var httpListen = new Option<string?>("--http-listen") { Description = "Plain HTTP address for health probes (Floe:Server:HttpListen; default http://127.0.0.1:7701; empty for none)" };
        var config = new Option<string?>("--config") { Description = "A JSON settings file (instead of ./appsettings.json)" };
        var allow = new Option<string[]>("--allow-source") { Description = "A location prefix that references and ingestion may name (Floe:Sources:Allowed; repeatable)", AllowMultipleArgumentsPerToken = false };
        var anonymous = new Option<string[]>("--anonymous-read") { Description = "A repository (or '*') callers without a token may read (repeatable)" };
        var logFormat = new Option<string?>("--log-format") { Description = "text (default) or json (structured lines)" };
        var command = new Command("serve", "Run the Floe server: gRPC for commits, appends, reads and ingestion jobs (docs/api.md), on the embedded filesystem store by default")
        {
            store, listen, httpListen, config, allow, anonymous, logFormat,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            // Options become configuration keys on the command line, which wins over appsettings and environment.
            var args = new List<string>(parse.UnmatchedTokens);
            void Set(string key, string? value)
            {
                if (value is not null)
                {
                    args.Add($"--{key}={value}");
                }
            }

            Set("Floe:Store", parse.GetValue(store));
            Set("Floe:Server:Listen", parse.GetValue(listen));
            Set("Floe:Server:HttpListen", parse.GetValue(httpListen));
            Set("Floe:LogFormat", parse.GetValue(logFormat));
            foreach (var (prefix, i) in (parse.GetValue(allow) ?? []).Select((p, i) => (p, i)))
            {
                Set($"Floe:Sources:Allowed:{i}", prefix);
            }

            foreach (var (repo, i) in (parse.GetValue(anonymous) ?? []).Select((p, i) => (p, i)))
            {
                Set($"Floe:Auth:AnonymousRead:{i}", repo);
            }

            if (parse.GetValue(config) is { } file)
            {
                args.AddRange(["--config", file]);
            }

            try
            {
                await using var app = FloeServer.Build([.. args]);
                await app.StartAsync(ct);
                await app.WaitForShutdownAsync(ct);
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
            {
                await Console.Error.WriteLineAsync($"floe: error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    public static Command Token()
    {
        var name = new Option<string>("--name") { Description = "The token's name (logs name tokens by it)", Required = true };
        var read = new Option<string[]>("--read") { Description = "A repository (or '*') the token may read (repeatable)" };
        var write = new Option<string[]>("--write") { Description = "A repository (or '*') the token may write, and so read (repeatable)" };
        var create = new Command("create", "Make a random bearer token; prints it once, and the configuration entry that holds only its hash") { name, read, write };
        create.SetAction(parse =>
        {
            var token = AccessPolicy.NewToken();
            var entry = new TokenEntry
            {
                Name = parse.GetValue(name)!,
                Sha256 = AccessPolicy.Hash(token),
                Read = [.. parse.GetValue(read) ?? []],
                Write = [.. parse.GetValue(write) ?? []],
            };
            Console.WriteLine($"token: {token}");
            Console.WriteLine("add to Floe:Auth:Tokens in appsettings.json (the server keeps only the hash):");
            Console.WriteLine(JsonSerializer.Serialize(entry, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return new Command("token", "Bearer tokens for floe serve") { create };
    }
}
