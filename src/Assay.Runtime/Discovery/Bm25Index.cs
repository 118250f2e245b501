namespace Assay.Runtime.Discovery;

/// <summary>
/// Okapi BM25 (k1 1.2, b 0.75) over weighted fields — keywords ×3, name ×2, description and
/// functions ×1 — with OR semantics: a module matching more query terms, rarer terms, or terms in
/// stronger fields ranks higher. An exact module name match ranks first.
/// </summary>
public sealed class Bm25Index
{
    const double K1 = 1.2, B = 0.75;
    readonly List<(ModuleInfo Module, Dictionary<string, double> Terms, double Length)> _docs = [];
    readonly Dictionary<string, int> _docFrequency = new(StringComparer.Ordinal);
    readonly double _averageLength;

    public Bm25Index(IEnumerable<ModuleInfo> modules)
    {
        foreach (var m in modules)
        {
            var terms = new Dictionary<string, double>(StringComparer.Ordinal);
            void Add(string text, double weight)
            {
                foreach (var t in Tokenize(text)) terms[t] = terms.GetValueOrDefault(t) + weight;
            }
            foreach (var k in m.Keywords) Add(k, 3);
            Add(m.Name, 2);
            Add(m.Description, 1);
            foreach (var f in m.Functions) Add(f, 1);
            foreach (var t in terms.Keys) _docFrequency[t] = _docFrequency.GetValueOrDefault(t) + 1;
            _docs.Add((m, terms, terms.Values.Sum()));
        }
        _averageLength = _docs.Count == 0 ? 1 : _docs.Average(d => d.Length);
    }

    public static IEnumerable<string> Tokenize(string text)
    {
        var token = new System.Text.StringBuilder();
        foreach (var c in text.ToLowerInvariant().Append(' '))
        {
            if (char.IsLetterOrDigit(c)) { token.Append(c); continue; }
            if (token.Length > 1) yield return token.ToString();
            token.Clear();
        }
    }

    public IReadOnlyList<(ModuleInfo Module, double Score)> Search(string query, int limit)
    {
        var terms = Tokenize(query).Distinct().ToList();
        var normalizedQuery = query.Trim().ToLowerInvariant();
        int n = _docs.Count;
        var scored = new List<(ModuleInfo, double)>();
        foreach (var (module, docTerms, length) in _docs)
        {
            double score = 0;
            foreach (var t in terms)
            {
                if (!docTerms.TryGetValue(t, out var tf)) continue;
                double df = _docFrequency[t];
                double idf = Math.Log((n - df + 0.5) / (df + 0.5) + 1);
                score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / _averageLength));
            }
            var name = module.Name.ToLowerInvariant();
            if (name == normalizedQuery || name == "assay." + normalizedQuery) score += 100;
            if (score > 0) scored.Add((module, score));
        }
        return scored.OrderByDescending(s => s.Item2).ThenBy(s => s.Item1.Name, StringComparer.Ordinal).Take(limit).ToList();
    }
}
