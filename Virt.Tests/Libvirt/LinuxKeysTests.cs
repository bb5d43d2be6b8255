using Virt.Node.Libvirt;

namespace Virt.Tests.Libvirt;

/// <summary>Key names against the codes of linux/input-event-codes.h, which virDomainSendKey's default codeset is.</summary>
public sealed class LinuxKeysTests
{
    [Theory]
    [InlineData("KEY_A", 30u)]
    [InlineData("a", 30u)]
    [InlineData("Q", 16u)]
    [InlineData("m", 50u)]
    [InlineData("h", 35u)]
    [InlineData("1", 2u)]
    [InlineData("0", 11u)]
    [InlineData("f1", 59u)]
    [InlineData("F10", 68u)]
    [InlineData("f12", 88u)]
    [InlineData("ctrl", 29u)]
    [InlineData("alt", 56u)]
    [InlineData("delete", 111u)]
    [InlineData("KEY_SYSRQ", 99u)]
    [InlineData("enter", 28u)]
    [InlineData("leftmeta", 125u)]
    public void A_key_name_is_its_linux_key_code(string name, uint code) => Assert.Equal(code, LinuxKeys.Code(name));

    [Theory]
    [InlineData("hyper")]
    [InlineData("")]
    [InlineData("KEY_")]
    [InlineData("30")]
    public void Anything_else_is_no_key(string name) => Assert.Null(LinuxKeys.Code(name));
}
