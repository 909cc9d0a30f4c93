using Aspire.Hosting.Deployment.Planning;

namespace Hosting.Deployment.Tests;

/// <summary>What the generator cannot translate stops it with the resource's name and what to do, and writes nothing.</summary>
public sealed class PlanErrorTests
{
    [Fact]
    public async Task A_bind_mount_stops_the_generation_naming_the_resource_and_leaves_the_output_as_it_was()
    {
        using var model = new PublishModel();
        model.Builder.AddContainer("web", "nginx", "1.27.3").WithDeployment(d => d.RunAs(101)).WithBindMount("/srv/site", "/usr/share/nginx/html");
        var output = Directory.CreateTempSubdirectory("deploy-").FullName;
        var earlier = Path.Combine(output, "compose", "docker-compose.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(earlier)!);
        await File.WriteAllTextAsync(earlier, "an earlier generation");

        var error = await Assert.ThrowsAsync<DeploymentModelException>(() => model.WriteAsync(output));

        Assert.Contains("'web' bind-mounts '/srv/site'", error.Message, StringComparison.Ordinal);
        Assert.Contains("WithContainerFiles", error.Message, StringComparison.Ordinal);
        Assert.Equal("an earlier generation", await File.ReadAllTextAsync(earlier));
        Assert.Single(Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories));
        Directory.Delete(output, recursive: true);
    }

    [Theory]
    [InlineData("literal")]
    [InlineData("missing")]
    [InlineData("mixed")]
    public async Task A_production_setting_needs_a_variable_that_holds_one_parameter(string variable)
    {
        using var model = new PublishModel();
        var size = model.Builder.AddParameter("cache-size", "64", publishValueAsDefault: true);
        model.Builder.AddContainer("web", "nginx", "1.27.3")
            .WithEnvironment("literal", "64")
            .WithEnvironment("mixed", ReferenceExpression.Create($"{size.Resource}m"))
            .WithDeployment(d => d.RunAs(101).InProduction(variable, "512"));

        var error = await Assert.ThrowsAsync<DeploymentModelException>(model.GenerateAsync);

        Assert.Contains($"'web': InProduction(\"{variable}\") needs {variable} to hold one non-secret parameter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_resource_of_no_deployable_kind_is_named()
    {
        using var model = new PublishModel();
        model.Builder.AddExecutable("report", "python3", ".", "report.py");

        var error = await Assert.ThrowsAsync<DeploymentModelException>(model.GenerateAsync);

        Assert.Contains("'report' (ExecutableResource) cannot be deployed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unpinned_image_is_refused()
    {
        using var model = new PublishModel();
        model.Builder.AddContainer("web", "nginx").WithDeployment(d => d.RunAs(101));

        var error = await Assert.ThrowsAsync<DeploymentModelException>(model.GenerateAsync);

        Assert.Contains("'web' has no pinned tag (nginx:latest)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_container_that_does_not_say_its_user_is_refused_rather_than_run_as_root()
    {
        using var model = new PublishModel();
        model.Builder.AddContainer("web", "nginx", "1.27.3");

        var error = await Assert.ThrowsAsync<DeploymentModelException>(model.GenerateAsync);

        Assert.Contains("'web' does not say which non-root user", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_passed_as_an_argument_is_refused_for_kubernetes()
    {
        using var model = new PublishModel();
        var token = model.Builder.AddParameter("token", secret: true);
        model.Builder.AddContainer("web", "nginx", "1.27.3").WithDeployment(d => d.RunAs(101)).WithArgs("--token", token);

        var error = await Assert.ThrowsAsync<DeploymentModelException>(model.GenerateAsync);

        Assert.Contains("An argument of 'web' holds a secret", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a}b")]
    [InlineData("$HOME")]
    public async Task A_setting_default_compose_cannot_hold_is_refused_naming_the_parameter(string value)
    {
        using var model = new PublishModel();
        var note = model.Builder.AddParameter("note", value, publishValueAsDefault: true);
        model.Builder.AddContainer("web", "nginx", "1.27.3").WithDeployment(d => d.RunAs(101)).WithEnvironment("NOTE", note);

        var error = await Assert.ThrowsAsync<DeploymentModelException>(model.GenerateAsync);

        Assert.Contains("Parameter 'note' has a default with", error.Message, StringComparison.Ordinal);
    }
}
