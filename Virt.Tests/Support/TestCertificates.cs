using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Virt.Tests.Support;

/// <summary>A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, written as PEM files.</summary>
public sealed class TestCertificates
{
    public TestCertificates(string directory)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=virt-test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        CaFile = Path.Combine(directory, "ca.pem");
        File.WriteAllText(CaFile, ca.ExportCertificatePem());
        (ServerCertFile, ServerKeyFile) = Issue(ca, caKey, directory, "server", server: true);
        (ClientCertFile, ClientKeyFile) = Issue(ca, caKey, directory, "client", server: false);
    }

    public string CaFile { get; }

    public string ServerCertFile { get; }

    public string ServerKeyFile { get; }

    public string ClientCertFile { get; }

    public string ClientKeyFile { get; }

    private static (string Cert, string Key) Issue(X509Certificate2 ca, ECDsa caKey, string directory, string name, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=virt-test-{name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usage = new OidCollection { new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2") }; // serverAuth or clientAuth
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usage, false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        using var cert = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        var certFile = Path.Combine(directory, $"{name}.pem");
        var keyFile = Path.Combine(directory, $"{name}-key.pem");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile);
    }
}
