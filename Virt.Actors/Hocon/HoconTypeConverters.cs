using System.ComponentModel;
using System.Globalization;

namespace Virt.Hocon;

/// <summary>
/// Teaches the configuration binder (which converts strings through <see cref="TypeDescriptor"/>) to read HOCON
/// durations into <see cref="TimeSpan"/> and sizes into <see cref="long"/> byte counts.
/// </summary>
public static class HoconTypeConverters
{
    private static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
            return;
        TypeDescriptor.AddAttributes(typeof(TimeSpan), new TypeConverterAttribute(typeof(DurationConverter)));
        TypeDescriptor.AddAttributes(typeof(long), new TypeConverterAttribute(typeof(SizeConverter)));
    }

    public sealed class DurationConverter : TimeSpanConverter
    {
        public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
            value is string s ? HoconDuration.Parse(s) : base.ConvertFrom(context, culture, value);
    }

    public sealed class SizeConverter : Int64Converter
    {
        public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
            value is string s ? HoconSize.Parse(s) : base.ConvertFrom(context, culture, value);
    }
}
