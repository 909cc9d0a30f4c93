namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// The PostgreSQL roles Temporal connects as instead of the server's superuser: the schema job as the owner of
/// <c>temporal</c> and <c>temporal_visibility</c> (DDL), the server as a role with rights on their rows only. Both
/// databases and roles exist before either connects: made by <see cref="CreatedBy"/>, which both wait to complete.
/// </summary>
/// <param name="SchemaUser">The databases' owner, as the schema job connects.</param>
/// <param name="SchemaPassword">Its password.</param>
/// <param name="ServerUser">The role the server connects as.</param>
/// <param name="ServerPassword">Its password.</param>
/// <param name="CreatedBy">The one-shot resource that creates the roles and databases.</param>
public sealed record TemporalDatabaseRoles(
    string SchemaUser, IResourceBuilder<ParameterResource> SchemaPassword,
    string ServerUser, IResourceBuilder<ParameterResource> ServerPassword,
    IResourceBuilder<IResource> CreatedBy);
