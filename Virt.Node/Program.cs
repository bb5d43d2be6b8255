using Virt.Node.Hosting;

return await NodeCommandLine.Build(NodeDaemon.RunAsync).Parse(args).InvokeAsync();
