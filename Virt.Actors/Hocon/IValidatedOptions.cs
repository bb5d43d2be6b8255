namespace Virt.Hocon;

/// <summary>
/// An options class that can say what is wrong with its values after binding, key by key (relative to its own
/// section), so start-up can name each problem with the file and line it came from.
/// </summary>
public interface IValidatedOptions
{
    IEnumerable<(string Key, string Problem)> Problems();
}
