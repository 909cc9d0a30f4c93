var app = WebApplication.CreateBuilder(args).Build();
app.MapGet("/alive", () => "Healthy");
app.Run();
