namespace Assay.Runtime.Templates;

// ---------------------------------------------------------------- expressions

public abstract class Expr { public int Line; }
public sealed class ConstExpr(object? value) : Expr { public object? Value = value; }
public sealed class NameExpr(string name) : Expr { public string Name = name; }
public sealed class ListExpr(List<Expr> items) : Expr { public List<Expr> Items = items; }
public sealed class TupleExpr(List<Expr> items) : Expr { public List<Expr> Items = items; }
public sealed class DictExpr(List<(Expr Key, Expr Value)> items) : Expr { public List<(Expr Key, Expr Value)> Items = items; }
public sealed class GetAttrExpr(Expr obj, string name) : Expr { public Expr Obj = obj; public string Name = name; }
public sealed class GetItemExpr(Expr obj, Expr key) : Expr { public Expr Obj = obj; public Expr Key = key; }
public sealed class SliceExpr(Expr? start, Expr? stop, Expr? step) : Expr { public Expr? Start = start, Stop = stop, Step = step; }
public sealed class UnaryExpr(string op, Expr operand) : Expr { public string Op = op; public Expr Operand = operand; }
public sealed class BinaryExpr(string op, Expr left, Expr right) : Expr { public string Op = op; public Expr Left = left, Right = right; }
public sealed class CompareExpr(Expr first, List<(string Op, Expr Operand)> rest) : Expr { public Expr First = first; public List<(string Op, Expr Operand)> Rest = rest; }
public sealed class CondExpr(Expr test, Expr then, Expr? otherwise) : Expr { public Expr Test = test, Then = then; public Expr? Else = otherwise; }
public sealed class ConcatExpr(List<Expr> parts) : Expr { public List<Expr> Parts = parts; }

public sealed class ArgList
{
    public List<Expr> Positional = [];
    public List<(string Name, Expr Value)> Named = [];
    public Expr? Star, StarStar;
}

public sealed class CallExpr(Expr callee, ArgList args) : Expr { public Expr Callee = callee; public ArgList Args = args; }
public sealed class FilterExpr(Expr? operand, string name, ArgList args) : Expr { public Expr? Operand = operand; public string Name = name; public ArgList Args = args; }
public sealed class TestExpr(Expr operand, string name, ArgList args, bool negated) : Expr { public Expr Operand = operand; public string Name = name; public ArgList Args = args; public bool Negated = negated; }

// ---------------------------------------------------------------- statements

public abstract class Node { public int Line; }
public sealed class OutputNode(string text) : Node { public string Text = text; }
public sealed class PrintNode(Expr expr) : Node { public Expr Expr = expr; }
public sealed class IfNode : Node { public List<(Expr Test, List<Node> Body)> Branches = []; public List<Node>? Else; }
public sealed class ForNode : Node
{
    public Expr Target = null!;
    public Expr Iter = null!;
    public Expr? Filter;
    public bool Recursive;
    public List<Node> Body = [];
    public List<Node>? Else;
}
public sealed class SetNode(Expr target, Expr value) : Node { public Expr Target = target; public Expr Value = value; }
public sealed class SetBlockNode(Expr target, List<Node> body, List<FilterExpr> filters) : Node { public Expr Target = target; public List<Node> Body = body; public List<FilterExpr> Filters = filters; }
public sealed class MacroParam(string name, Expr? fallback) { public string Name = name; public Expr? Default = fallback; }
public sealed class MacroNode : Node { public string Name = ""; public List<MacroParam> Params = []; public List<Node> Body = []; }
public sealed class CallBlockNode : Node { public CallExpr Call = null!; public List<MacroParam> Params = []; public List<Node> Body = []; }
public sealed class FilterBlockNode(List<FilterExpr> filters, List<Node> body) : Node { public List<FilterExpr> Filters = filters; public List<Node> Body = body; }
public sealed class BlockNode : Node { public string Name = ""; public bool Scoped; public bool Required; public List<Node> Body = []; public Template Owner = null!; }
public sealed class ExtendsNode(Expr template) : Node { public Expr Template = template; }
public sealed class IncludeNode(Expr template, bool ignoreMissing, bool withContext) : Node { public Expr Template = template; public bool IgnoreMissing = ignoreMissing; public bool WithContext = withContext; }
public sealed class ImportNode(Expr template, string alias, bool withContext) : Node { public Expr Template = template; public string Alias = alias; public bool WithContext = withContext; }
public sealed class FromImportNode(Expr template, List<(string Name, string Alias)> names, bool withContext) : Node { public Expr Template = template; public List<(string Name, string Alias)> Names = names; public bool WithContext = withContext; }
public sealed class WithNode(List<(Expr Target, Expr Value)> assignments, List<Node> body) : Node { public List<(Expr Target, Expr Value)> Assignments = assignments; public List<Node> Body = body; }
public sealed class AutoescapeNode(Expr enabled, List<Node> body) : Node { public Expr Enabled = enabled; public List<Node> Body = body; }

/// <summary>A parsed template: its name, top-level nodes, blocks and autoescape setting.</summary>
public sealed class Template
{
    public string Name { get; init; } = "<string>";
    public bool Autoescape { get; init; }
    public List<Node> Body { get; set; } = [];
    public Dictionary<string, BlockNode> Blocks { get; } = new(StringComparer.Ordinal);
}
