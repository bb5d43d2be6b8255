namespace Virt.Shell.Parsing;

/// <summary>The command line itself is wrong: an unknown command or option, a missing argument, a value that does not parse. Exit 2, one line.</summary>
internal sealed class UsageException(string message) : Exception(message);
