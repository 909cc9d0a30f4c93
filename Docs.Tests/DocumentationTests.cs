using System.Text.RegularExpressions;

namespace Docs.Tests;

/// <summary>
/// The README and the pages under docs/ hold together: every relative link and anchor resolves, every page is
/// reachable, no fact is copied into two pages, every page named from code exists, and the README's test command is
/// the one CI runs. (Its run and first-order commands are run as written by AppHost.Tests' FirstRunTests.)
/// </summary>
public sealed partial class DocumentationTests
{
    // Sentences shorter than this repeat by nature ("Fix it.", "See Configuration.").
    private const int MinimumWordsOfACopiedSentence = 10;

    private static readonly string Readme = Repository.PathOf("README.md");
    private static readonly string DocsFolder = Repository.PathOf("docs");
    private static readonly string[] Pages =
        [Readme, .. Directory.GetFiles(DocsFolder, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    [Fact]
    public void Every_relative_link_resolves_anchors_included()
    {
        var broken = new List<string>();
        foreach (var page in Pages)
        {
            foreach (var link in MarkdownDocument.Load(page).Links.Where(l => !IsExternal(l.Target)))
            {
                if (Resolve(page, link.Target) is { } problem)
                {
                    broken.Add($"{Relative(page)}:{link.Line}: {link.Target}: {problem}");
                }
            }
        }

        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void Every_file_under_docs_is_linked_from_the_readme_or_another_page()
    {
        var linked = Pages
            .SelectMany(page => MarkdownDocument.Load(page).Links
                .Where(l => !IsExternal(l.Target) && !l.Target.StartsWith('#'))
                .Select(l => (From: page, To: Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, PathOf(l.Target))))))
            .Where(l => l.From != l.To)
            .Select(l => l.To)
            .ToHashSet(StringComparer.Ordinal);

        var orphans = Directory.GetFiles(DocsFolder, "*", SearchOption.AllDirectories).Where(f => !linked.Contains(f)).Select(Relative).ToList();

        Assert.True(orphans.Count == 0, "Nothing links to: " + string.Join(", ", orphans));
    }

    [Fact]
    public void No_sentence_is_copied_into_two_pages()
    {
        var pagesOf = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var page in Pages)
        {
            foreach (var sentence in MarkdownDocument.Load(page).Prose.SelectMany(p => SentenceEnd().Split(p)))
            {
                var normalized = sentence.Trim().ToLowerInvariant();
                if (normalized.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= MinimumWordsOfACopiedSentence)
                {
                    (pagesOf.TryGetValue(normalized, out var set) ? set : pagesOf[normalized] = []).Add(Relative(page));
                }
            }
        }

        var copies = pagesOf.Where(p => p.Value.Count > 1).Select(p => $"{string.Join(" and ", p.Value)}: \"{p.Key}\"").ToList();

        Assert.True(copies.Count == 0, "Each fact belongs in one page; link to it from the others:\n" + string.Join('\n', copies));
    }

    [Fact]
    public void Every_page_and_section_that_code_names_exists()
    {
        var missing = new List<string>();
        foreach (var file in SourceFiles())
        {
            foreach (Match reference in PageReference().Matches(File.ReadAllText(file)))
            {
                var page = Path.Combine(DocsFolder, reference.Groups["page"].Value);
                if (!File.Exists(page))
                {
                    missing.Add($"{Relative(file)}: {reference.Value}: no such page");
                    continue;
                }
                var headings = MarkdownDocument.Load(page).Headings;
                if (reference.Groups["anchor"] is { Success: true } anchor && headings.All(h => h.Anchor != anchor.Value))
                {
                    missing.Add($"{Relative(file)}: {reference.Value}: no such anchor");
                }
                if (reference.Groups["section"] is { Success: true } section && headings.All(h => h.Text != section.Value))
                {
                    missing.Add($"{Relative(file)}: {reference.Value}: no such heading");
                }
            }
        }

        Assert.True(missing.Count == 0, string.Join('\n', missing));
    }

    [Fact]
    public void The_readme_test_command_is_the_command_ci_runs()
    {
        var command = Assert.Single(MarkdownDocument.Load(Readme).CodeBlocks("Test")).Trim();
        var ciRuns = File.ReadAllLines(Repository.PathOf(".ci", "run")).Select(l => l.Trim()).Last(l => l.Length > 0 && !l.StartsWith('#'));

        Assert.Equal(command, ciRuns);
    }

    /// <summary>Null when <paramref name="target"/>, linked from <paramref name="page"/>, exists; otherwise what is wrong.</summary>
    private static string? Resolve(string page, string target)
    {
        var path = PathOf(target);
        var file = path.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, path));
        if (!file.StartsWith(Repository.Root, StringComparison.Ordinal))
        {
            return "outside the repository";
        }
        if (!File.Exists(file) && !Directory.Exists(file))
        {
            return "no such file";
        }
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        if (hash < 0)
        {
            return null;
        }
        var anchor = target[(hash + 1)..];
        return file.EndsWith(".md", StringComparison.Ordinal) && MarkdownDocument.Load(file).Headings.Any(h => h.Anchor == anchor)
            ? null
            : $"no heading with the anchor #{anchor}";
    }

    private static string PathOf(string target) => Uri.UnescapeDataString(target.Split('#')[0]);

    private static bool IsExternal(string target) => target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal);

    private static string Relative(string path) => Path.GetRelativePath(Repository.Root, path);

    /// <summary>The repository's own text files that may name a page: code, scripts, configuration, workflows, generated files.</summary>
    private static IEnumerable<string> SourceFiles()
    {
        string[] extensions = [".cs", ".sh", ".mjs", ".yaml", ".yml", ".json", ".props", ".csproj", ".tpl", ".txt", ".env", ".example"];
        string[] skipped = ["bin", "obj", ".git", "node_modules", "TestResults", "Histories"];
        return Directory.EnumerateFiles(Repository.Root, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(Repository.Root, f).Split(Path.DirectorySeparatorChar).Any(skipped.Contains))
            .Where(f => extensions.Contains(Path.GetExtension(f)) || Path.GetFileName(f) is "run" or "Dockerfile");
    }

    // A page under docs, optionally with #anchor or with , "Heading" after it (escaped quotes in C# strings included).
    [GeneratedRegex(@"docs/(?<page>[a-z0-9-]+\.md)(?:#(?<anchor>[\w-]+))?(?:, \\?""(?<section>[^""\\]+)\\?"")?")]
    private static partial Regex PageReference();

    [GeneratedRegex(@"(?<=[.!?;])\s+")]
    private static partial Regex SentenceEnd();
}
