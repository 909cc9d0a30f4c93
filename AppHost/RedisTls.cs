using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;

namespace AppHost;

/// <summary>
/// TLS to the model's Redis container, on in production (docs/security.md, "Encryption in transit"), as
/// <see cref="PostgresTls"/> does for PostgreSQL: the server serves the Secret <c>redis-tls</c> on its one port once
/// <c>REDIS_TLS</c> is <c>true</c>, and the worker (<c>Redis:Tls</c>) verifies it and the host name against that
/// Secret's <c>ca.crt</c>, mounted alone. One non-secret parameter, <c>redis-tls</c>, carries the switch.
/// </summary>
internal sealed class RedisTls(IDistributedApplicationBuilder builder)
{
    public const string SecretName = "redis-tls";

    private const string ServerDirectory = "/etc/redis-tls";

    private const string CaDirectory = "/etc/redis-ca";

    private readonly IResourceBuilder<ParameterResource> enabled = builder.AddParameter("redis-tls", "false", publishValueAsDefault: true);

    /// <summary>
    /// The server: Redis's own arguments (Aspire's, the password) and, with <c>REDIS_TLS</c> on, TLS instead of plain
    /// text on the same port, chosen by a shell when the container starts.
    /// </summary>
    public IResourceBuilder<RedisResource> Serve(IResourceBuilder<RedisResource> redis) =>
        // Aspire would otherwise turn TLS on itself where a development certificate is trusted, with arguments of its own
        // that this shell does not pass on: one switch, this one. (Aspire 13.6 marks the opt-out experimental.)
#pragma warning disable ASPIRECERTIFICATES001
        redis.WithoutHttpsCertificate()
#pragma warning restore ASPIRECERTIFICATES001
            .WithAnnotation(new CommandLineArgsCallbackAnnotation(args =>
            {
                args.Add("-c");
                args.Add($$"""
                    set -- --requirepass "$REDIS_PASSWORD"
                    if [ "${REDIS_TLS:-false}" = true ]; then
                      # The Secret may come after the pod: wait for it rather than fail.
                      until [ -s {{ServerDirectory}}/tls.key ]; do echo "Waiting for the Secret {{SecretName}} ({{ServerDirectory}}/tls.key)"; sleep 5; done
                      set -- "$@" --port 0 --tls-port 6379 --tls-cert-file {{ServerDirectory}}/tls.crt --tls-key-file {{ServerDirectory}}/tls.key --tls-auth-clients no
                    fi
                    exec redis-server "$@"
                    """.ReplaceLineEndings("\n"));
            }), ResourceAnnotationMutationBehavior.Replace)
            .WithEnvironment("REDIS_TLS", enabled)
            .WithDeployment(d => d.MountsSecret(SecretName, ServerDirectory).InProduction("REDIS_TLS", "true")
                .Contribute(new ServerCertificate(SecretName, redis.Resource.Name)));

    /// <summary>The probe, through TLS when the server speaks it (redis-cli checks the chain; the name is its own).</summary>
    public static string ProbeScript =>
        $$"""REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli $([ "${REDIS_TLS:-false}" = true ] && echo --tls --cacert {{ServerDirectory}}/ca.crt) ping | grep -q PONG""";

    /// <summary>
    /// A nightly <c>redis-certificate-reload</c> (a CronJob deployed; started by hand here): Redis reads its certificate
    /// only at start or when its file settings are set again, and cert-manager renews a month before the old one ends.
    /// With TLS off it has nothing to do.
    /// </summary>
    public void ReloadNightly(IDistributedApplicationBuilder builder, IResourceBuilder<RedisResource> redis)
    {
        var server = redis.Resource;
        var image = server.Annotations.OfType<ContainerImageAnnotation>().Last();
        builder.AddContainer("redis-certificate-reload", image.Image, image.Tag!)
            .WithImageRegistry(image.Registry)
            .WithEntrypoint("/bin/sh")
            .WithArgs("-c", $$"""
                if [ "${REDIS_TLS:-false}" != true ]; then echo "TLS is off: no certificate to reload"; exit 0; fi
                answer=$(REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" --tls --cacert {{CaDirectory}}/ca.crt \
                  CONFIG SET tls-cert-file {{ServerDirectory}}/tls.crt tls-key-file {{ServerDirectory}}/tls.key)
                [ "$answer" = OK ] || { echo "Redis did not reload its certificate: $answer" >&2; exit 1; }
                echo "Redis reloaded its certificate"
                """.ReplaceLineEndings("\n"))
            .WithEnvironment("REDIS_HOST", server.PrimaryEndpoint.Property(EndpointProperty.Host))
            .WithEnvironment("REDIS_PORT", server.PrimaryEndpoint.Property(EndpointProperty.TargetPort))
            .WithEnvironment("REDIS_PASSWORD", server.PasswordParameter!)
            .WithEnvironment("REDIS_TLS", enabled)
            .WithParentRelationship(redis)
            .WithExplicitStart()
            .WaitFor(redis)
            .WithDeployment(d => d.Group("redis").Schedule("40 2 * * *").RunAs(Stack.ImageUser).Resources(cpu: "10m/1", memory: "16Mi/64Mi")
                .MountsSecret(SecretName, CaDirectory, "ca.crt").InProduction("REDIS_TLS", "true"));
    }

    /// <summary>The worker: <c>Redis:Tls</c> and the CA certificate it trusts.</summary>
    public IResourceBuilder<ProjectResource> Client(IResourceBuilder<ProjectResource> worker) =>
        worker.WithEnvironment("Redis__Tls", enabled)
            .WithEnvironment("Redis__CaCertificatePath", $"{CaDirectory}/ca.crt")
            .WithDeployment(d => d.MountsSecret(SecretName, CaDirectory, "ca.crt").InProduction("Redis__Tls", "true"));
}
