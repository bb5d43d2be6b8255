using Virt.Shell;

return await VirtCommandLine.Build().Parse(args).InvokeAsync();
