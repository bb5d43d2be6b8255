using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Virt.Node.Api;
using Virt.Shell.Palettes;

namespace Virt.Tests.Shell;

/// <summary>The palette document the node serves and the copy the shell falls back on when no node answers.</summary>
public sealed class PaletteDocumentTests
{
    [Fact]
    public void The_shells_built_in_palettes_are_the_nodes_own()
    {
        var node = PaletteEndpoints.Document(new ServiceCollection().BuildServiceProvider());
        var builtin = JsonNode.Parse(BuiltinPalettes.Json())!;
        Assert.True(JsonNode.DeepEquals(node["palettes"], builtin["palettes"]), "Virt.Shell/Palettes/palettes.json differs from the node's PaletteEndpoints.Palettes: copy the node's palettes into the shell");
        Assert.True(JsonNode.DeepEquals(node["completions"], builtin["completions"]));
    }

    [Fact]
    public void A_contributed_palette_is_added_and_one_of_the_same_name_replaces_the_built_in_one()
    {
        var services = new ServiceCollection()
            .AddSingleton(new PaletteEndpoints.Contribution("""{"completions": {"rules": {"path": "/v1/rules", "value": "{name}"}}, "palettes": [{"name": "rule", "description": "Placement rules.", "commands": []}]}"""))
            .AddSingleton(new PaletteEndpoints.Contribution("""{"palettes": [{"name": "node", "description": "Replaced.", "commands": []}]}"""))
            .BuildServiceProvider();
        var document = PaletteEndpoints.Document(services);
        var names = document["palettes"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();
        var builtIn = PaletteEndpoints.Document(new ServiceCollection().BuildServiceProvider())["palettes"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("node", builtIn);
        Assert.Equal([.. builtIn.Where(n => n is not ("rule" or "node")), "rule", "node"], names); // contributions come last, a replaced one moves there
        Assert.Equal("Replaced.", document["palettes"]![names.Count - 1]!["description"]!.GetValue<string>());
        Assert.Equal("/v1/rules", document["completions"]!["rules"]!["path"]!.GetValue<string>());
    }

    [Fact]
    public void Every_built_in_command_reads_back_with_what_the_shell_needs()
    {
        var document = BuiltinPalettes.Document;
        foreach (var palette in document.Palettes)
        {
            foreach (var command in palette.Commands)
            {
                if (command.Local == "console")
                    Assert.True(command.Console is not null && command.Request is null, $"{palette.Name} {command.Name}: a console needs the WebSocket path");
                else if (command.Local == "edit")
                    Assert.True(command.Request is not null && command.Edit is not null, $"{palette.Name} {command.Name}: an edit needs the document to edit and a request to send it");
                else
                    Assert.True(command.Request is not null ^ command.Local is not null, $"{palette.Name} {command.Name}: a request or a local runner, not both");
                foreach (var parameter in (command.Arguments ?? []).Concat(command.Options ?? []))
                {
                    Assert.Contains(parameter.Type, new[] { "string", "int", "flag", "size", "duration", "choice", "file", "json-file", "disk", "nic", "label", "label-key" });
                    if (parameter.Complete is { } source)
                        Assert.True(document.Completions!.ContainsKey(source), $"{palette.Name} {command.Name} {parameter.Name}: no completion source '{source}'");
                    if (parameter.To == "path")
                        Assert.Contains("{" + parameter.Name + "}", command.Request?.Path ?? command.Console!.Path);
                }
            }
        }
    }
}
