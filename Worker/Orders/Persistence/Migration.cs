namespace Worker.Orders.Persistence;

/// <summary>One step of the schema: a name for <c>schema_migrations</c> and the SQL that applies it.</summary>
public sealed record Migration(string Name, string Script);
