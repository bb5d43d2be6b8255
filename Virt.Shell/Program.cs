using System.CommandLine;

var root = new RootCommand("virt: the Virt shell. Talks to any virt-node over HTTP (default 127.0.0.1:9110).");
return await root.Parse(args).InvokeAsync();
