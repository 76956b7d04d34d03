// Finds the metric names a PromQL expression reads (as Grafana sends it: $variables allowed in
// brackets and label values), and refuses a function or token PromQL does not have.

/** PromQL's functions and aggregation operators (prometheus.io/docs/prometheus/latest/querying). */
const FUNCTIONS = new Set(
  (
    'abs absent absent_over_time avg avg_over_time bottomk ceil changes clamp clamp_max clamp_min count ' +
    'count_over_time count_values day_of_month day_of_week day_of_year days_in_month delta deriv exp floor ' +
    'group histogram_avg histogram_count histogram_fraction histogram_quantile histogram_stddev ' +
    'histogram_stdvar histogram_sum hour idelta increase irate label_join label_replace last_over_time ln ' +
    'log10 log2 max max_over_time min min_over_time minute month predict_linear present_over_time quantile ' +
    'quantile_over_time rate resets round scalar sgn sort sort_desc sqrt stddev stddev_over_time stdvar ' +
    'stdvar_over_time sum sum_over_time time timestamp topk vector year'
  ).split(' '),
);
/** Keywords whose next parenthesis holds label names, not an expression. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OTHER_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);

type Token = { kind: 'ident' | 'punct' | 'other'; text: string };

function tokenize(expr: string): Token[] {
  const pattern =
    /\s+|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)|(\$\{?\w+\}?)|(\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|[smhdwy])?)|([A-Za-z_:][\w:]*)|([(){}[\],])|(==|!=|=~|!~|>=|<=|[-+*/%^=<>@])/y;
  const tokens: Token[] = [];
  let index = 0;
  while (index < expr.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(expr);
    if (match === null) throw new Error(`PromQL: cannot read '${expr.slice(index, index + 20)}' in: ${expr}`);
    index = pattern.lastIndex;
    if (match[4] !== undefined) tokens.push({ kind: 'ident', text: match[4] });
    else if (match[5] !== undefined) tokens.push({ kind: 'punct', text: match[5] });
    else if (match[0].trim() !== '') tokens.push({ kind: 'other', text: match[0] });
  }
  return tokens;
}

/** Index just past the bracket that closes the one at `open`. */
function skipGroup(tokens: Token[], open: number, expr: string): number {
  const pairs: Record<string, string> = { '(': ')', '{': '}', '[': ']' };
  const closer = pairs[tokens[open]?.text ?? ''];
  let depth = 0;
  for (let i = open; i < tokens.length; i += 1) {
    const text = tokens[i]?.text;
    if (text === tokens[open]?.text) depth += 1;
    else if (text === closer) {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error(`PromQL: unbalanced '${tokens[open]?.text}' in: ${expr}`);
}

/** The metric names `expr` selects, in order of appearance (duplicates kept). */
export function metricNamesIn(expr: string): string[] {
  const tokens = tokenize(expr);
  const names: string[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; ) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    if (token.text === '{' || token.text === '[') {
      i = skipGroup(tokens, i, expr); // Label matchers, ranges and subqueries name no metric.
    } else if (token.kind === 'ident' && LABEL_LIST_KEYWORDS.has(token.text)) {
      i = next?.text === '(' ? skipGroup(tokens, i + 1, expr) : i + 1;
    } else if (
      token.kind === 'ident' &&
      (next?.text === '(' || next?.text === 'by' || next?.text === 'without')
    ) {
      // A call, or an aggregation with its modifier first (`sum by (le) (…)`).
      if (!FUNCTIONS.has(token.text)) throw new Error(`PromQL: no function '${token.text}' in: ${expr}`);
      i += 1;
    } else {
      if (token.kind === 'ident' && !OTHER_KEYWORDS.has(token.text.toLowerCase())) names.push(token.text);
      if (token.text === '(') depth += 1;
      if (token.text === ')') depth -= 1;
      if (depth < 0) throw new Error(`PromQL: unbalanced ')' in: ${expr}`);
      i += 1;
    }
  }
  if (depth !== 0) throw new Error(`PromQL: unbalanced '(' in: ${expr}`);
  return names;
}

/** The series names a registry's metrics expose: a histogram's _bucket, _sum and _count. */
export function seriesNamesOf(metrics: ReadonlyArray<{ name: string; type: string }>): Set<string> {
  const suffixes: Record<string, string[]> = {
    histogram: ['_bucket', '_sum', '_count'],
    summary: ['', '_sum', '_count'],
  };
  return new Set(metrics.flatMap((m) => (suffixes[m.type] ?? ['']).map((suffix) => `${m.name}${suffix}`)));
}
