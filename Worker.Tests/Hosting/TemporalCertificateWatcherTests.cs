using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Worker.Temporal;

namespace Worker.Tests.Hosting;

/// <summary>
/// A renewed certificate in the mounted Secret stops the worker's host gracefully (its orchestrator starts it again,
/// and the SDK reads the files when it connects); unchanged files leave it running.
/// </summary>
public sealed class TemporalCertificateWatcherTests
{
    [Fact]
    public async Task A_renewed_certificate_stops_the_host_and_unchanged_files_do_not()
    {
        var mount = Directory.CreateTempSubdirectory("temporal-client-tls-");
        try
        {
            foreach (var file in new[] { "tls.crt", "tls.key", "ca.crt" })
            {
                await File.WriteAllTextAsync(Path.Combine(mount.FullName, file), $"{file} of the first certificate");
            }
            var settings = new TemporalSettings
            {
                Address = "temporal-server:7233",
                TlsDirectory = mount.FullName,
                TlsFileCheckInterval = TimeSpan.FromMilliseconds(50),
                TlsRestartSpread = TimeSpan.FromMilliseconds(200),
            };
            var builder = Host.CreateApplicationBuilder();
            builder.Services.AddSingleton(Options.Create(settings));
            builder.Services.AddHostedService<TemporalCertificateWatcher>();
            using var host = builder.Build();
            await host.StartAsync();
            var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

            await Task.Delay(TimeSpan.FromMilliseconds(500)); // ten checks of the same files
            Assert.False(stopping.IsCancellationRequested, "the host stopped with its certificate unchanged");

            // cert-manager renews: the kubelet swaps the Secret's files.
            await File.WriteAllTextAsync(Path.Combine(mount.FullName, "tls.crt"), "tls.crt of the renewed certificate");
            await Task.Delay(TimeSpan.FromSeconds(10), stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            Assert.True(stopping.IsCancellationRequested, "the host kept running with a certificate the SDK no longer matches");
            await host.StopAsync();
        }
        finally
        {
            mount.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Without_tls_files_there_is_nothing_to_watch()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(Options.Create(new TemporalSettings { Address = "localhost:7233", TlsFileCheckInterval = TimeSpan.FromMilliseconds(10) }));
        builder.Services.AddHostedService<TemporalCertificateWatcher>();
        using var host = builder.Build();
        await host.StartAsync();

        await Task.Delay(TimeSpan.FromMilliseconds(200));

        Assert.False(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        await host.StopAsync();
    }
}
