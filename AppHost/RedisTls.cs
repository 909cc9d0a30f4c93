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
        redis.WithAnnotation(new CommandLineArgsCallbackAnnotation(args =>
            {
                args.Add("-c");
                args.Add($$"""
                    set -- --requirepass "$REDIS_PASSWORD"
                    if [ "${REDIS_TLS:-false}" = true ]; then
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

    /// <summary>The worker: <c>Redis:Tls</c> and the CA certificate it trusts.</summary>
    public IResourceBuilder<ProjectResource> Client(IResourceBuilder<ProjectResource> worker) =>
        worker.WithEnvironment("Redis__Tls", enabled)
            .WithEnvironment("Redis__CaCertificatePath", $"{CaDirectory}/ca.crt")
            .WithDeployment(d => d.MountsSecret(SecretName, CaDirectory, "ca.crt").InProduction("Redis__Tls", "true"));
}
