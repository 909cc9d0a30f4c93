using System.Text.RegularExpressions;

namespace TestSupport;

/// <summary>
/// A Markdown file read as far as the documentation tests need, the way GitHub renders it: the headings with the
/// anchors GitHub gives them, the links, the fenced code blocks under each heading, and the prose (paragraphs,
/// list items and table rows, outside code).
/// </summary>
public sealed partial class MarkdownDocument
{
    private readonly List<MarkdownHeading> headings = [];
    private readonly List<MarkdownLink> links = [];
    private readonly List<string> prose = [];
    private readonly List<(int Line, string Code)> codeBlocks = [];

    private MarkdownDocument(string path) => FilePath = path;

    /// <summary>The file read.</summary>
    public string FilePath { get; }

    /// <summary>The headings in order.</summary>
    public IReadOnlyList<MarkdownHeading> Headings => headings;

    /// <summary>Every link and image target outside code, with the line its paragraph starts on.</summary>
    public IReadOnlyList<MarkdownLink> Links => links;

    /// <summary>Paragraphs, list items and table rows outside code, as plain text on one line.</summary>
    public IReadOnlyList<string> Prose => prose;

    /// <summary>Reads <paramref name="path"/>.</summary>
    public static MarkdownDocument Load(string path)
    {
        var document = new MarkdownDocument(path);
        document.Parse(File.ReadAllLines(path));
        return document;
    }

    /// <summary>The fenced code blocks under the heading with this text, up to the next heading of its level or above.</summary>
    /// <exception cref="InvalidOperationException">No heading has that text.</exception>
    public IReadOnlyList<string> CodeBlocks(string heading)
    {
        var index = headings.FindIndex(h => h.Text == heading);
        if (index < 0)
        {
            throw new InvalidOperationException($"{FilePath} has no heading '{heading}'.");
        }
        var start = headings[index];
        var end = headings.Skip(index + 1).FirstOrDefault(h => h.Level <= start.Level)?.Line ?? int.MaxValue;
        return codeBlocks.Where(b => b.Line > start.Line && b.Line < end).Select(b => b.Code).ToList();
    }

    /// <summary>
    /// The anchor GitHub gives a heading: its text without formatting, lower case, with everything but letters,
    /// digits, spaces, hyphens and underscores removed, and spaces made hyphens (a repeated anchor gets -1, -2…).
    /// </summary>
    public static string AnchorOf(string headingText) =>
        NotInAnchor().Replace(PlainText(headingText).ToLowerInvariant(), "").Replace(' ', '-');

    private void Parse(string[] lines)
    {
        var paragraph = new List<string>();
        var paragraphLine = 0;
        string? fence = null;
        var code = new List<string>();
        var codeLine = 0;
        var anchors = new Dictionary<string, int>(StringComparer.Ordinal);

        void EndParagraph()
        {
            if (paragraph.Count > 0)
            {
                AddProse(string.Join(' ', paragraph), paragraphLine);
                paragraph.Clear();
            }
        }

        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var number = i + 1;
            var trimmed = line.TrimStart();
            if (fence is not null)
            {
                if (trimmed.StartsWith(fence, StringComparison.Ordinal))
                {
                    codeBlocks.Add((codeLine, string.Join('\n', code)));
                    fence = null;
                }
                else
                {
                    code.Add(line);
                }
                continue;
            }
            if (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal))
            {
                EndParagraph();
                fence = trimmed[..3];
                code.Clear();
                codeLine = number;
                continue;
            }
            if (Heading().Match(line) is { Success: true } heading)
            {
                EndParagraph();
                var text = heading.Groups[2].Value;
                var anchor = AnchorOf(text);
                var seen = anchors.GetValueOrDefault(anchor);
                anchors[anchor] = seen + 1;
                headings.Add(new MarkdownHeading(heading.Groups[1].Length, text, seen == 0 ? anchor : $"{anchor}-{seen}", number));
                continue;
            }
            if (string.IsNullOrWhiteSpace(line) || trimmed.StartsWith('|') || ListItem().IsMatch(line))
            {
                EndParagraph();
            }
            if (trimmed.StartsWith('|'))
            {
                if (!TableRule().IsMatch(trimmed))
                {
                    AddProse(trimmed, number);
                }
                continue;
            }
            if (!string.IsNullOrWhiteSpace(line))
            {
                if (paragraph.Count == 0)
                {
                    paragraphLine = number;
                }
                paragraph.Add(trimmed);
            }
        }
        EndParagraph();
    }

    private void AddProse(string text, int line)
    {
        var withoutCode = InlineCode().Replace(text, "");
        foreach (Match link in Link().Matches(withoutCode))
        {
            links.Add(new MarkdownLink(link.Groups[1].Value, line));
        }
        prose.Add(Whitespace().Replace(PlainText(ListItem().Replace(text, "")), " ").Trim());
    }

    private static string PlainText(string markdown) =>
        Link().Replace(markdown, m => m.Groups["text"].Value).Replace("`", "", StringComparison.Ordinal).Replace("*", "", StringComparison.Ordinal);

    [GeneratedRegex(@"^(#{1,6})\s+(.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\s*([-*+]|\d+\.)\s+")]
    private static partial Regex ListItem();

    [GeneratedRegex(@"^\|[\s:|-]+\|?$")]
    private static partial Regex TableRule();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCode();

    // [text](target "title") and ![alt](target); the text may hold one level of brackets.
    [GeneratedRegex(@"!?\[(?<text>(?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"[^\p{L}\p{M}\p{N}\p{Pc} -]")]
    private static partial Regex NotInAnchor();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}

/// <summary>A heading: its level (1 for <c>#</c>), its text as written, the anchor GitHub gives it, and its line.</summary>
public sealed record MarkdownHeading(int Level, string Text, string Anchor, int Line);

/// <summary>A link or image target as written (path, anchor or both), and the line its paragraph starts on.</summary>
public sealed record MarkdownLink(string Target, int Line);
