using Virt.Node.Agent;
using Virt.Tests.Support;

namespace Virt.Tests.Fence;

/// <summary>
/// The device half of the petter, without a real watchdog (opening one would arm a reset of this machine): a regular
/// file takes the same writes, and /dev/null is a character device that refuses the watchdog's ioctls.
/// </summary>
public sealed class WatchdogDeviceTests
{
    [Fact]
    public void A_regular_file_takes_pets_and_the_magic_close_but_no_timeout()
    {
        using var dir = new TempDirectory("watchdog");
        var path = dir.File("watchdog");
        File.WriteAllBytes(path, []);

        var device = WatchdogDevice.Open(path, TimeSpan.FromSeconds(7));
        Assert.Equal(TimeSpan.FromSeconds(7), device.Timeout);
        Assert.Equal($"{path} is not a character device: no timeout set on it (a test stand-in)", device.Note);
        device.Pet();
        device.Pet();
        device.Disarm();

        Assert.Equal(new byte[] { 0, 0, (byte)'V' }, File.ReadAllBytes(path));
    }

    [Fact]
    public void Abandoning_it_closes_it_without_the_magic_close()
    {
        using var dir = new TempDirectory("watchdog");
        var path = dir.File("watchdog");
        File.WriteAllBytes(path, []);

        var device = WatchdogDevice.Open(path, TimeSpan.FromSeconds(7));
        device.Pet();
        device.Abandon();

        Assert.Equal(new byte[] { 0 }, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_character_device_that_is_no_watchdog_is_refused_with_what_it_said()
    {
        var refused = Assert.Throws<IOException>(() => WatchdogDevice.Open("/dev/null", TimeSpan.FromSeconds(10)));
        Assert.StartsWith("/dev/null refused a timeout of 10s (", refused.Message);
        Assert.EndsWith(") and does not tell its own: is it a watchdog device?", refused.Message);
    }
}
