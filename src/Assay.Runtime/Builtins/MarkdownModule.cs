using Assay.Lua;
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
        bool safe = false, headingIds = false;
        if (L.TypeOf(2) == LuaType.Table)
        {
            L.CheckStack(2);
            if (L.RawGetField(2, "safe") != LuaType.Nil) safe = L.ToBoolean(-1);
            L.Pop(1);
            if (L.RawGetField(2, "raw_html") != LuaType.Nil) safe |= !L.ToBoolean(-1);
            L.Pop(1);
            if (L.RawGetField(2, "heading_ids") != LuaType.Nil) headingIds = L.ToBoolean(-1);
            L.Pop(1);
        }
        else if (!L.IsNoneOrNil(2)) return call.Error($"markdown.to_html: second argument must be an options table, got {call.TypeName(2)}");
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

    static bool IsDangerous(string url)
    {
        var u = new string(url.Where(c => !char.IsWhiteSpace(c) && !char.IsControl(c)).ToArray()).ToLowerInvariant();
        if (u.StartsWith("javascript:") || u.StartsWith("vbscript:")) return true;
        // data: URLs only for raster images (an SVG can carry script)
        return u.StartsWith("data:") && !(u.StartsWith("data:image/png") || u.StartsWith("data:image/jpeg")
            || u.StartsWith("data:image/gif") || u.StartsWith("data:image/webp"));
    }
}
