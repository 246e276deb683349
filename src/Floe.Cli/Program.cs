using System.CommandLine;
using Floe.Cli;

var root = new RootCommand("floe: versioned virtual datacubes over archives of scientific files");
foreach (var command in Commands.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
