namespace Virt.Shell.Completion;

/// <summary>
/// <c>virt completion bash|zsh|fish</c>: a script for the user's shell that asks <c>virt __complete LINE</c> for
/// the words that fit, so one-shot commands complete the same palettes, options and live names as the interactive shell.
/// </summary>
internal static class CompletionScripts
{
    public const string Command = "__complete";

    public static readonly string[] Shells = ["bash", "zsh", "fish"];

    public static string? For(string shell, string program) => shell switch
    {
        "bash" => $$"""
            # virt completion for bash: source it, e.g. in ~/.bashrc:  source <(virt completion bash)
            _virt_complete() {
              local IFS=$'\n'
              COMPREPLY=($('{{program}}' {{Command}} "${COMP_LINE:0:$COMP_POINT}" 2>/dev/null))
            }
            complete -o default -F _virt_complete virt scripts/virt
            """,
        "zsh" => $$"""
            # virt completion for zsh: source it, e.g. in ~/.zshrc:  source <(virt completion zsh)
            _virt_complete() {
              local -a candidates
              candidates=("${(@f)$('{{program}}' {{Command}} "${BUFFER[1,CURSOR]}" 2>/dev/null)}")
              compadd -Q -- ${candidates:#}
            }
            compdef _virt_complete virt scripts/virt
            """,
        "fish" => $$"""
            # virt completion for fish: source it, e.g.  virt completion fish > ~/.config/fish/completions/virt.fish
            complete -c virt -f -a "('{{program}}' {{Command}} (commandline -cp) 2>/dev/null)"
            """,
        _ => null,
    };

    /// <summary>The program the scripts call: this binary when it is the native <c>virt</c>, else <c>virt</c> on the PATH.</summary>
    public static string Program() =>
        Environment.ProcessPath is { } path && Path.GetFileName(path) == "virt" ? path : "virt";
}
