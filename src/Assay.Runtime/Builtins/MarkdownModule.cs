using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>markdown.to_html(text, opts?)</c> via Markdig: CommonMark plus tables, strikethrough, task
/// lists, autolinks and footnotes. <c>{safe = true}</c> (or <c>{raw_html = false}</c>) renders raw
/// HTML as text and neutralises javascript:/vbscript:/data: link targets — for untrusted input.
/// <c>{heading_ids = true}</c> adds id attributes to headings. Reference page: docs/modules/markdown.md.
/// </summary>
public static class MarkdownModule
{
    static readonly MarkdownPipeline[] Pipelines = new MarkdownPipeline[4];

    static MarkdownPipeline Pipeline(bool safe, bool headingIds)
    {
        int index = (safe ? 1 : 0) | (headingIds ? 2 : 0);
        if (Pipelines[index] is { } cached) return cached;
        var builder = new MarkdownPipelineBuilder()
            .UsePipeTables()
            .UseEmphasisExtras()
            .UseTaskLists()
            .UseAutoLinks()
            .UseFootnotes();
        if (headingIds) builder.UseAutoIdentifiers();
        if (safe) builder.DisableHtml();
        return Pipelines[index] = builder.Build();
    }

    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("markdown", ("to_html", ToHtml));
    }

    static int ToHtml(LuaCall call)
    {
        var text = call.CheckString(1);
        var L = call.L;
        var options = call.Options(2, ["safe", "raw_html", "heading_ids"]);
        bool safe = options.Flag("safe") || !options.Flag("raw_html", fallback: true);
        bool headingIds = options.Flag("heading_ids");
        if (DeepestLine(text) is { } deep)
            return call.Fail($"lists and block quotes nest more than {MaxNesting} levels deep at line {deep}");
        var pipeline = Pipeline(safe, headingIds);
        var document = Markdown.Parse(text, pipeline);
        if (safe)
        {
            foreach (var link in document.Descendants<LinkInline>())
                if (link.Url is { } url && IsDangerous(url)) link.Url = "#";
            foreach (var link in document.Descendants<AutolinkInline>())
                if (IsDangerous(link.Url)) link.Url = "#";
        }
        L.PushString(document.ToHtml(pipeline));
        return 1;
    }

    /// <summary>
    /// Container nesting allowed. Markdig itself gives up past 128 nested blocks (a list is two:
    /// list and item), but only after work that grows with the cube of the depth (2,000 nested
    /// lists: 23 s), so deeper input is refused up front by <see cref="DeepestLine"/>.
    /// </summary>
    const int MaxNesting = 128;

    /// <summary>
    /// The first line whose container prefix could nest deeper than <see cref="MaxNesting"/>, or
    /// null. A line can only be as deep as its prefix allows: each enclosing block quote needs a
    /// '>' and each enclosing list item at least two columns (its marker and a space, or the
    /// indentation under it). So a line that opens a container (has a '>' or list marker at its
    /// start) counts one level per marker plus one per two columns of indentation — never less
    /// than its real depth, and linear in the input. Lines opening nothing cannot deepen nesting.
    /// </summary>
    static int? DeepestLine(string text)
    {
        int line = 1;
        for (int i = 0; i < text.Length; line++)
        {
            int markers = 0, columns = 0;
            while (i < text.Length)
            {
                char c = text[i];
                if (c == ' ') { columns++; i++; }
                else if (c == '\t') { columns += 4; i++; }
                else if (c == '>') { markers++; i++; }
                else if (ListMarkerLength(text, i) is > 0 and var n) { markers++; i += n; }
                else break;
            }
            if (markers > 0 && markers + columns / 2 > MaxNesting) return line;
            int end = text.IndexOf('\n', i);
            i = end < 0 ? text.Length : end + 1;
        }
        return null;
    }

    /// <summary>Length of a list marker ("-", "+", "*", "1." or "1)") at <paramref name="i"/> that is followed by a blank or the line's end, else 0.</summary>
    static int ListMarkerLength(string text, int i)
    {
        int j = i;
        if (text[j] is '-' or '+' or '*') j++;
        else
        {
            while (j < text.Length && j - i < 9 && char.IsAsciiDigit(text[j])) j++;
            if (j == i || j == text.Length || text[j] is not ('.' or ')')) return 0;
            j++;
        }
        return j == text.Length || text[j] is ' ' or '\t' or '\r' or '\n' ? j - i : 0;
    }

    static bool IsDangerous(string url)
    {
        var u = new string(url.Where(c => !char.IsWhiteSpace(c) && !char.IsControl(c)).ToArray()).ToLowerInvariant();
        if (u.StartsWith("javascript:") || u.StartsWith("vbscript:")) return true;
        // data: URLs only for raster images (an SVG can carry script)
        return u.StartsWith("data:") && !(u.StartsWith("data:image/png") || u.StartsWith("data:image/jpeg")
            || u.StartsWith("data:image/gif") || u.StartsWith("data:image/webp"));
    }
}
