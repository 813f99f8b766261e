/// "Did you mean ...?": the closest of the known names to a misspelt one, the one place every
/// layer asks (config keys, option tables, dataset names).
public enum Suggestion {
    /// The known name closest to `name` by edit distance, when it is close enough to be a typo
    /// (at most a third of the name's length, at least 3); nil otherwise.
    public static func closest(to name: String, among known: some Sequence<String>) -> String? {
        // Names are short; a long unknown one is no typo (and would cost time to compare).
        guard name.utf8.count <= 120 else { return nil }
        let limit = max(3, name.utf8.count / 3)
        var best: (name: String, distance: Int)?
        for candidate in known where abs(candidate.utf8.count - name.utf8.count) <= limit && candidate != name {
            let d = editDistance(candidate, name)
            if d <= limit, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.name
    }

    /// "; did you mean X?" or "".
    public static func hint(for name: String, among known: some Sequence<String>) -> String {
        closest(to: name, among: known).map { "; did you mean \($0)?" } ?? ""
    }

    /// Levenshtein distance over UTF-8 bytes, two rows reused.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var prev = Array(0...y.count), cur = Array(repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            cur[0] = i
            for j in 1...y.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[y.count]
    }
}
