namespace Worker.Tests.Infrastructure;

/// <summary>Waiting for something another thread or process brings about, instead of sleeping a guessed while.</summary>
public static class Wait
{
    /// <summary>Polls the condition until it is true; a <see cref="TimeoutException"/> after the timeout (default 15 s).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not become true.");
            }
            await Task.Delay(25);
        }
    }
}
