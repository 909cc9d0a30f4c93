using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;

namespace AppHost;

/// <summary>
/// TLS to the model's PostgreSQL container, on in production (docs/security.md, "Encryption in transit"): the server
/// serves the certificate of the Secret <c>postgres-tls</c> (<c>tls.crt</c>, <c>tls.key</c>, <c>ca.crt</c>, as
/// cert-manager writes it), and every client verifies it and the host name against <c>ca.crt</c>, mounted alone.
/// Running and in the development forms each setting keeps its plain default, so Compose and a local run need no
/// certificate. Three non-secret parameters carry the switch in each client's own terms, and production sets them.
/// </summary>
internal sealed class PostgresTls
{
    public const string SecretName = "postgres-tls";

    /// <summary>Where the server finds its certificate and key.</summary>
    private const string ServerDirectory = "/etc/postgres-tls";

    /// <summary>Where a client finds the CA certificate (the only key of the Secret it mounts).</summary>
    private const string CaDirectory = "/etc/postgres-ca";

    private const string CaFile = CaDirectory + "/ca.crt";

    /// <summary>Where the server's two sets of client rules are; <c>POSTGRES_SSL</c> picks one.</summary>
    private const string HbaDirectory = "/etc/postgres-hba";

    /// <summary>Without TLS: every client with its password, as the image's own rules.</summary>
    private const string PlainRules = """
        # Clients of PostgreSQL without TLS (POSTGRES_SSL=off): every connection with its password.
        local all all scram-sha-256
        host all all all scram-sha-256
        """;

    /// <summary>With TLS: a network client only through TLS; a plain-text connection matches no rule and is refused.</summary>
    private const string TlsRules = """
        # Clients of PostgreSQL with TLS (POSTGRES_SSL=on): over the network only through TLS, with the password;
        # a plain-text connection matches no line and is refused.
        local all all scram-sha-256
        hostssl all all all scram-sha-256
        """;

    /// <summary>libpq's <c>sslmode</c> of production; also what the worker's <c>Database:SslMode</c> takes.</summary>
    private const string ProductionSslMode = "verify-full";

    private readonly IResourceBuilder<ParameterResource> serverSsl;
    private readonly IResourceBuilder<ParameterResource> sslMode;

    public PostgresTls(IDistributedApplicationBuilder builder)
    {
        serverSsl = builder.AddParameter("postgres-ssl", "off", publishValueAsDefault: true);
        sslMode = builder.AddParameter("postgres-ssl-mode", "prefer", publishValueAsDefault: true);
        Temporal = new TemporalDatabaseTls(builder.AddParameter("postgres-tls-temporal", "false", publishValueAsDefault: true), SecretName, CaDirectory);
    }

    /// <summary>What the Temporal integration's schema job and server need.</summary>
    public TemporalDatabaseTls Temporal { get; }

    /// <summary>
    /// The server: <c>ssl</c> from <c>POSTGRES_SSL</c>, read by a shell in front of the image's entrypoint, since the
    /// server takes it only as an argument, and the client rules that go with it (with <c>on</c>, TLS or nothing). With
    /// <c>off</c> the certificate files are never read, so they may be missing.
    /// </summary>
    public IResourceBuilder<PostgresServerResource> Serve(IResourceBuilder<PostgresServerResource> postgres, params string[] serverArguments) =>
        postgres.WithEntrypoint("/bin/sh")
            .WithArgs(["-c", $$"""
                # With TLS on, wait for the certificate (the Secret may come after the pod): a start without it would
                # fail after initdb, and a later start would skip the first start's set-up.
                if [ "${POSTGRES_SSL:-off}" = on ]; then
                  until [ -s {{ServerDirectory}}/tls.key ]; do echo "Waiting for the Secret {{SecretName}} ({{ServerDirectory}}/tls.key)"; sleep 5; done
                fi
                exec docker-entrypoint.sh postgres "$@" -c ssl="${POSTGRES_SSL:-off}" -c ssl_cert_file={{ServerDirectory}}/tls.crt -c ssl_key_file={{ServerDirectory}}/tls.key -c hba_file={{HbaDirectory}}/pg_hba-"${POSTGRES_SSL:-off}".conf
                """.ReplaceLineEndings("\n"),
                "postgres", .. serverArguments])
            .WithContainerFiles(HbaDirectory, [
                new ContainerFile { Name = "pg_hba-off.conf", Contents = PlainRules.ReplaceLineEndings("\n") + "\n" },
                new ContainerFile { Name = "pg_hba-on.conf", Contents = TlsRules.ReplaceLineEndings("\n") + "\n" },
            ])
            .WithEnvironment("POSTGRES_SSL", serverSsl)
            // The Secret from the operator's PKI, or from cert-manager with this option on (components/postgres-certificates).
            .WithDeployment(d => d.MountsSecret(SecretName, ServerDirectory).InProduction("POSTGRES_SSL", "on").Contribute(new ServerCertificate(SecretName, postgres.Resource.Name)));

    /// <summary>
    /// A nightly <c>postgres-certificate-reload</c> (a CronJob deployed; started by hand here): PostgreSQL reads a renewed
    /// certificate only when told to reload its configuration, and cert-manager renews a month before the old one ends.
    /// </summary>
    public void ReloadNightly(IDistributedApplicationBuilder builder, IResourceBuilder<PostgresServerResource> postgres, DatabaseRoles roles) =>
        // A role that may call pg_reload_conf() and nothing else, not the superuser.
        AddClientJob(builder, "postgres-certificate-reload", postgres,
                ReferenceExpression.Create($"{DatabaseRoles.ReloadRole}"), roles.Password(DatabaseRoles.ReloadRole).Resource)
            .WithEntrypoint("psql")
            .WithArgs("--no-psqlrc", "-d", "postgres", "-c", "SELECT pg_reload_conf()")
            .WithExplicitStart()
            .WaitForCompletion(roles.Job)
            .WithDeployment(d => d.Group("postgresql").Schedule("30 2 * * *").RunAs(Stack.ImageUser).Resources(cpu: "10m/1", memory: "32Mi/128Mi")
                .Connects(postgres.Resource, perReplica: 1));

    /// <summary>
    /// A container of the server's own image (psql and pg_dump of its version, and nothing more to pull) that connects
    /// to it as <paramref name="user"/> through libpq's variables, with this TLS: the roles job, the backup, the reload.
    /// </summary>
    public IResourceBuilder<ContainerResource> AddClientJob(IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<PostgresServerResource> postgres, ReferenceExpression user, ParameterResource password)
    {
        var server = postgres.Resource;
        var image = server.Annotations.OfType<ContainerImageAnnotation>().Last();
        return LibpqClient(builder.AddContainer(name, image.Image, image.Tag!)
            .WithImageRegistry(image.Registry)
            .WithEnvironment("PGHOST", server.PrimaryEndpoint.Property(EndpointProperty.Host))
            .WithEnvironment("PGPORT", server.PrimaryEndpoint.Property(EndpointProperty.TargetPort))
            .WithEnvironment("PGUSER", user)
            .WithEnvironment("PGPASSWORD", password)
            .WithParentRelationship(postgres));
    }

    /// <summary>A client through libpq (psql, pg_dump): its own variables.</summary>
    private IResourceBuilder<T> LibpqClient<T>(IResourceBuilder<T> client)
        where T : IResourceWithEnvironment =>
        client.WithEnvironment("PGSSLMODE", sslMode)
            .WithEnvironment("PGSSLROOTCERT", CaFile)
            .WithDeployment(d => d.MountsSecret(SecretName, CaDirectory, "ca.crt").InProduction("PGSSLMODE", ProductionSslMode));

    /// <summary>The worker or its migration job (Npgsql): <c>Database:SslMode</c>, and the CA through <c>PGSSLROOTCERT</c>, which Npgsql reads.</summary>
    public IResourceBuilder<ProjectResource> NpgsqlClient(IResourceBuilder<ProjectResource> client) =>
        client.WithEnvironment("Database__SslMode", sslMode)
            .WithEnvironment("PGSSLROOTCERT", CaFile)
            .WithDeployment(d => d.MountsSecret(SecretName, CaDirectory, "ca.crt").InProduction("Database__SslMode", ProductionSslMode));
}
