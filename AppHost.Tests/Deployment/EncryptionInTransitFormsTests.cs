using k8s;
using k8s.Models;

namespace AppHost.Tests.Deployment;

/// <summary>
/// TLS to PostgreSQL and Redis as each rendered form runs them (docs/security.md, "Encryption in transit"): in
/// production each server serves its Secret (<c>postgres-tls</c>, <c>redis-tls</c>) and every pod that connects to it
/// verifies certificate and host name against that Secret's <c>ca.crt</c>, mounted alone; in development everything
/// stays plain and needs no Secret.
/// </summary>
[Collection(SharedDeployment.Name)]
public sealed class EncryptionInTransitFormsTests(GeneratedDeployment generated)
{
    public static TheoryData<string, string[], bool> Forms => new()
    {
        { "kustomize", ["overlays/development"], false },
        { "kustomize", ["overlays/production"], true },
        { "helm", [], false },
        { "helm", ["-f", "values-production.yaml"], true },
    };

    /// <summary>One of <see cref="Forms"/> as its tool renders it: Helm 4 with the arguments, or the Kustomize overlay.</summary>
    private Task<string> RenderAsync(string tool, string[] form) =>
        tool == "helm" ? generated.HelmTemplateAsync(Validators.Helm4, form) : generated.KustomizeAsync(form[0]);

    /// <summary>Each client's switch, in its own terms, with its development and production values.</summary>
    private static readonly Dictionary<string, (string Plain, string Verified)> Switches = new()
    {
        ["PGSSLMODE"] = ("prefer", "verify-full"),
        ["Database__SslMode"] = ("prefer", "verify-full"),
        ["SQL_TLS"] = ("false", "true"),
        ["SQL_TLS_ENABLED"] = ("false", "true"),
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task Every_pod_that_connects_to_postgresql_verifies_it_in_production_and_none_needs_a_certificate_in_development(
        string tool, string[] form, bool production)
    {
        var rendered = await RenderAsync(tool, form);
        var objects = GeneratedDeployment.ParseStrict(rendered);

        var (clients, servers) = (0, 0);
        foreach (var (owner, template, _) in KubernetesPolicy.Pods(rendered, objects))
        {
            var container = template.Spec.Containers[0];
            var env = Environment(objects, container);
            if (owner == "StatefulSet/postgres")
            {
                servers++;
                Assert.Equal(production ? "on" : "off", env["POSTGRES_SSL"]);
                Assert.Contains("ssl=\"${POSTGRES_SSL:-off}\"", string.Join(' ', container.Args ?? []), StringComparison.Ordinal);
                // The client rules that go with the switch: in production plain text is refused (Worker.Tests' DatabaseTlsTests run them).
                Assert.Contains("hba_file=/etc/postgres-hba/pg_hba-\"${POSTGRES_SSL:-off}\".conf", string.Join(' ', container.Args ?? []), StringComparison.Ordinal);
                Assert.Null(Mount(template, container, "/etc/postgres-tls").Secret.Items); // certificate, key and CA
                continue;
            }
            if (!ConnectsToPostgres(env))
            {
                continue;
            }
            clients++;
            var switches = Switches.Where(s => env.ContainsKey(s.Key)).ToList();
            Assert.True(switches.Count > 0, $"{owner} connects to PostgreSQL with no TLS setting");
            foreach (var (name, (plain, verified)) in switches)
            {
                Assert.True(env[name] == (production ? verified : plain), $"{owner}: {name}={env[name]}");
            }
            // The CA certificate only, never the server's key beside it.
            var ca = Mount(template, container, "/etc/postgres-ca").Secret;
            Assert.Equal("postgres-tls", ca.SecretName);
            Assert.True(ca.Optional, $"{owner}: development runs without the Secret");
            Assert.Equal(["ca.crt"], ca.Items.Select(i => i.Key));
        }
        // The worker, its migration job, the roles job, the backup, Temporal's schema job and server (and its services in production).
        Assert.True(clients >= 6, $"only {clients} clients of PostgreSQL found");
        Assert.Equal(1, servers);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task The_worker_reaches_redis_over_tls_in_production_only(string tool, string[] form, bool production)
    {
        var rendered = await RenderAsync(tool, form);
        var objects = GeneratedDeployment.ParseStrict(rendered);
        var pods = KubernetesPolicy.Pods(rendered, objects).ToDictionary(p => p.Owner[(p.Owner.IndexOf('/') + 1)..], p => p.Template);

        var redis = pods["redis"];
        Assert.Equal(production ? "true" : "false", Environment(objects, redis.Spec.Containers[0])["REDIS_TLS"]);
        Assert.Null(Mount(redis, redis.Spec.Containers[0], "/etc/redis-tls").Secret.Items);
        Assert.Contains("--tls --cacert", string.Join(' ', redis.Spec.Containers[0].ReadinessProbe.Exec.Command), StringComparison.Ordinal);
        var worker = pods["worker"];
        var env = Environment(objects, worker.Spec.Containers[0]);
        Assert.Equal(production ? "true" : "false", env["Redis__Tls"]);
        var ca = Mount(worker, worker.Spec.Containers[0], "/etc/redis-ca").Secret;
        Assert.Equal(("redis-tls", "ca.crt"), (ca.SecretName, Assert.Single(ca.Items).Key));
        Assert.Equal("/etc/redis-ca/ca.crt", env["Redis__CaCertificatePath"]);
        // The nightly reload that makes Redis read a renewed certificate: on with TLS, through TLS, trusting the CA alone.
        var reload = pods["redis-certificate-reload"];
        Assert.Equal(production ? "true" : "false", Environment(objects, reload.Spec.Containers[0])["REDIS_TLS"]);
        Assert.Equal("ca.crt", Assert.Single(Mount(reload, reload.Spec.Containers[0], "/etc/redis-ca").Secret.Items).Key);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task Temporal_serves_mutual_tls_in_production_and_every_pod_that_calls_it_presents_the_clients_certificate(
        string tool, string[] form, bool production)
    {
        var rendered = await RenderAsync(tool, form);
        var objects = GeneratedDeployment.ParseStrict(rendered);

        List<string> servers = [];
        List<string> clients = [];
        foreach (var (owner, template, _) in KubernetesPolicy.Pods(rendered, objects))
        {
            var container = template.Spec.Containers[0];
            var env = Environment(objects, container);
            if (owner.StartsWith("Deployment/temporal-server", StringComparison.Ordinal))
            {
                servers.Add(owner);
                Assert.Equal(production ? "true" : "false", env["TEMPORAL_SERVER_TLS"]);
                Assert.EndsWith("exec /etc/temporal/entrypoint.sh", (container.Args ?? []).Last().TrimEnd(), StringComparison.Ordinal);
                var own = Mount(template, container, "/etc/temporal-tls").Secret;
                Assert.Equal(("temporal-tls", null), (own.SecretName, own.Items)); // certificate, key and CA
                // No kubelet gRPC probe: it speaks plain text only.
                Assert.All(new[] { container.StartupProbe, container.ReadinessProbe, container.LivenessProbe }, p => Assert.Null(p?.Grpc));
                Assert.Equal("", env["TEMPORAL_SERVER_JWKS_URL"]); // the authorizer is off unless given keys, in every form
                continue;
            }
            var address = env.GetValueOrDefault("TEMPORAL_ADDRESS") ?? env.GetValueOrDefault("ConnectionStrings__temporal") ?? "";
            if (!address.Contains("temporal-server", StringComparison.Ordinal))
            {
                continue;
            }
            clients.Add(owner);
            var certificate = Mount(template, container, "/etc/temporal-client-tls").Secret;
            Assert.Equal("temporal-client-tls", certificate.SecretName);
            Assert.True(certificate.Optional, $"{owner}: development runs without the Secret");
            // Each caller's token for the authorizer, where its Secret is there: the worker's own, the jobs' an administrator's.
            var token = template.Spec.Volumes.SingleOrDefault(v => v.Secret?.SecretName == "temporal-token")?.Secret;
            if (env.TryGetValue("Temporal__TlsDirectory", out var directory))
            {
                Assert.Equal(production ? "/etc/temporal-client-tls" : "", directory); // the worker
                Assert.Equal("", env["Temporal__ApiKeyFile"]);
                Assert.Equal(["worker"], token!.Items.Select(i => i.Key));
            }
            else
            {
                Assert.Equal(production ? "true" : "false", env["TEMPORAL_SERVER_TLS"]); // a job's or the UI's start script
                if (owner.StartsWith("Job/", StringComparison.Ordinal))
                {
                    Assert.Equal(["admin"], token!.Items.Select(i => i.Key));
                }
                else
                {
                    Assert.Null(token); // the UI calls with its users' own tokens (its OIDC login)
                }
            }
            Assert.True(token is null || token.Optional == true, $"{owner}: the token's Secret is required");
        }
        Assert.True(servers.Count == (production ? 4 : 1), string.Join(", ", servers));
        Assert.Contains("Deployment/worker", clients);
        Assert.Contains("Deployment/temporal-ui", clients);
        Assert.Contains(clients, c => c.StartsWith("Job/temporal-namespace", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("kustomize", "keda")]
    [InlineData("helm", "keda")]
    [InlineData("kustomize", "worker-versioning")]
    [InlineData("helm", "worker-versioning")]
    public async Task Kedas_scaler_and_the_worker_controller_present_the_clients_certificate_in_production_only(string tool, string option)
    {
        async Task<string> Render(bool production) => tool == "helm"
            ? await generated.HelmTemplateAsync(Validators.Helm4, [.. production ? ProductionValues : [],
                "--set", option == "keda" ? "keda.enabled=true" : "workerVersioning.enabled=true"])
            // An overlay of the user's lists the option, then the component that gives it the certificate where TLS is on.
            : production ? await generated.KustomizeAsync("overlays/production", option, "temporal-client-tls")
            : await generated.KustomizeAsync("overlays/development", option);

        foreach (var production in new[] { false, true })
        {
            var rendered = await Render(production);
            await GeneratedDeployment.ValidateCustomResourcesAsync(rendered, option == "keda" ? "ScaledObject" : "Connection");
            if (option == "keda")
            {
                var trigger = (Dictionary<object, object>)((List<object>)Spec(Assert.Single(WorkerControllerObjects.Of(rendered, "ScaledObject")))["triggers"])[0];
                var reference = trigger.TryGetValue("authenticationRef", out var r) ? (string)((Dictionary<object, object>)r)["name"] : null;
                Assert.Equal(production ? "worker-temporal-tls" : null, reference);
                if (production)
                {
                    var secretRefs = (List<object>)Spec(WorkerControllerObjects.Of(rendered, "TriggerAuthentication").Single(d => Name(d) == reference))["secretTargetRef"];
                    Assert.Equal(["ca=temporal-client-tls/ca.crt", "cert=temporal-client-tls/tls.crt", "key=temporal-client-tls/tls.key"],
                        secretRefs.Cast<Dictionary<object, object>>().Select(s => $"{s["parameter"]}={s["name"]}/{s["key"]}").Order());
                }
            }
            else
            {
                var connection = Spec(Assert.Single(WorkerControllerObjects.Of(rendered, "Connection")));
                var secret = connection.TryGetValue("mutualTLSSecretRef", out var m) ? (string)((Dictionary<object, object>)m)["name"] : null;
                Assert.Equal(production ? "temporal-client-tls" : null, secret);
            }
        }
    }

    [Theory]
    [InlineData("keda.enabled=true")]
    [InlineData("workerVersioning.enabled=true")]
    public async Task An_existing_temporal_in_production_is_reached_as_its_own_settings_say_with_no_client_certificate_of_the_charts(string option)
    {
        var rendered = await generated.HelmTemplateAsync(Validators.Helm4, "-f", "values-production.yaml", "--set", option,
            "--set", "temporal.enabled=false", "--set", "temporal.frontendAddress=acme.a1b2c.tmprl.cloud:7233",
            "--set", "temporal.namespace=acme.a1b2c", "--set", "temporal.existingSecret=temporal-cloud");
        var objects = GeneratedDeployment.ParseStrict(rendered);

        // Temporal Cloud with its API key: the chart's certificate directory and token file would stop the worker's start.
        var settings = objects.OfType<V1ConfigMap>().Single(c => c.Name() == "worker-settings").Data;
        Assert.False(settings.ContainsKey("Temporal__TlsDirectory"));
        Assert.False(settings.ContainsKey("Temporal__ApiKeyFile"));
        // KEDA's scaler and the worker controller: the API key only (Temporal Cloud's), never the chart's client certificate.
        Assert.DoesNotContain("mutualTLSSecretRef", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("worker-temporal-tls", rendered, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kustomize")]
    [InlineData("helm")]
    public async Task Cert_manager_issues_temporals_server_and_client_certificates_of_one_ca(string tool)
    {
        var rendered = tool == "helm"
            ? await generated.HelmTemplateAsync(Validators.Helm4, "-f", "values-production.yaml", "--set", "temporal.temporalServer.certificates.enabled=true")
            : await generated.KustomizeAsync("overlays/production", "temporal-server-certificates");
        await GeneratedDeployment.ValidateCustomResourcesAsync(rendered, "Certificate");
        var certificates = WorkerControllerObjects.Of(rendered, "Certificate").ToList();

        var server = Spec(certificates.Single(d => Name(d) == "temporal-tls"));
        var dnsNames = (List<object>)server["dnsNames"];
        // The Service clients dial, and its cluster name (KEDA and the worker controller call from their own namespaces).
        Assert.Contains("temporal-server", dnsNames);
        Assert.Contains(dnsNames, n => n is string name && name.StartsWith("temporal-server.", StringComparison.Ordinal) && name.EndsWith(".svc", StringComparison.Ordinal));
        // Its services call one another with it, so it is also a client's.
        Assert.Equal(["server auth", "client auth", "digital signature"], ((List<object>)server["usages"]).Cast<string>());
        var client = Spec(certificates.Single(d => Name(d) == "temporal-client-tls"));
        Assert.Equal("temporal-client-tls", client["secretName"]);
        Assert.Equal(["client auth", "digital signature"], ((List<object>)client["usages"]).Cast<string>());
        Assert.Equal(((Dictionary<object, object>)server["issuerRef"])["name"], ((Dictionary<object, object>)client["issuerRef"])["name"]);
    }

    [Theory]
    [InlineData("kustomize", "postgres")]
    [InlineData("helm", "postgres")]
    [InlineData("kustomize", "redis")]
    [InlineData("helm", "redis")]
    public async Task Cert_manager_issues_the_secret_the_pods_mount_for_the_name_clients_connect_to(string tool, string server)
    {
        var values = server == "postgres" ? "postgresql" : "redis";
        var rendered = tool == "helm"
            ? await generated.HelmTemplateAsync(Validators.Helm4, "-f", "values-production.yaml", "--set", $"{values}.certificates.enabled=true")
            : await generated.KustomizeAsync("overlays/production", $"{server}-certificates");
        await GeneratedDeployment.ValidateCustomResourcesAsync(rendered, "Certificate");
        var documents = WorkerControllerObjects.Of(rendered, "Certificate").Concat(WorkerControllerObjects.Of(rendered, "Issuer")).ToList();

        var certificate = Spec(documents.Single(d => Name(d) == $"{server}-tls"));
        Assert.Equal($"{server}-tls", certificate["secretName"]);
        Assert.Contains(server, (List<object>)certificate["dnsNames"]); // the host every client's connection names
        var issuer = (string)((Dictionary<object, object>)certificate["issuerRef"])["name"];
        // Its issuer is in the output, and so is that one's: a CA of the server's own, signed once by a self-signed issuer.
        Assert.Contains(documents, d => (string)d["kind"] == "Issuer" && Name(d) == issuer && Spec(d).ContainsKey("ca"));
        var ca = Spec(documents.Single(d => (string)d["kind"] == "Certificate" && Name(d) == issuer));
        Assert.Equal("true", ca["isCA"].ToString()!.ToLowerInvariant());
    }

    [Fact]
    public async Task Helm_takes_an_issuer_of_the_organisations_instead_of_making_a_ca()
    {
        var rendered = await generated.HelmTemplateAsync(Validators.Helm4, "-f", "values-production.yaml", "--set", "postgresql.certificates.enabled=true",
            "--set", "postgresql.certificates.issuer.name=corporate-ca", "--set", "postgresql.certificates.issuer.kind=ClusterIssuer");

        Assert.Empty(WorkerControllerObjects.Of(rendered, "Issuer"));
        var issuerRef = (Dictionary<object, object>)Spec(Assert.Single(WorkerControllerObjects.Of(rendered, "Certificate")))["issuerRef"];
        Assert.Equal(("corporate-ca", "ClusterIssuer"), ((string)issuerRef["name"], (string)issuerRef["kind"]));
    }

    private static readonly string[] ProductionValues = ["-f", "values-production.yaml"];

    private static Dictionary<object, object> Spec(Dictionary<object, object> document) => (Dictionary<object, object>)document["spec"];

    private static string Name(Dictionary<object, object> document) => (string)((Dictionary<object, object>)document["metadata"])["name"];

    private static bool ConnectsToPostgres(Dictionary<string, string> env) =>
        env.ContainsKey("PGHOST") || env.ContainsKey("POSTGRES_SEEDS")
        || (env.TryGetValue("ConnectionStrings__appdb", out var appdb) && appdb.Contains("Host=postgres", StringComparison.Ordinal));

    /// <summary>The container's variables: its settings ConfigMaps, then its own entries (which win).</summary>
    private static Dictionary<string, string> Environment(List<IKubernetesObject> objects, V1Container container)
    {
        var env = new Dictionary<string, string>();
        foreach (var source in container.EnvFrom ?? [])
        {
            if (source.ConfigMapRef is { } reference)
            {
                foreach (var (key, value) in objects.OfType<V1ConfigMap>().Single(c => c.Name() == reference.Name).Data ?? new Dictionary<string, string>())
                {
                    env[key] = value;
                }
            }
        }
        foreach (var variable in container.Env ?? [])
        {
            env[variable.Name] = variable.Value ?? "(from a Secret)";
        }
        return env;
    }

    private static V1Volume Mount(V1PodTemplateSpec template, V1Container container, string path)
    {
        var mount = Assert.Single(container.VolumeMounts, m => m.MountPath == path);
        Assert.True(mount.ReadOnlyProperty, $"{path} is mounted writable");
        return template.Spec.Volumes.Single(v => v.Name == mount.Name);
    }
}
