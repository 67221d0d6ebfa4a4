/**
 * The metric names a PromQL expression selects, found by a small tokenizer
 * (not a regular expression over the text): label matchers `{...}`, label
 * lists after by/without/on/ignoring/group_left/group_right, range and
 * subquery brackets `[...]`, strings, numbers, durations, keywords and
 * function or aggregation names are skipped; a `{__name__="..."}` matcher
 * names its metric. An unknown function name is an error (a typo must not
 * pass as "not a metric").
 */

const FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min',
  'cos', 'cosh', 'count_over_time', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'deg', 'delta', 'deriv', 'exp', 'floor', 'histogram_avg',
  'histogram_count', 'histogram_fraction', 'histogram_quantile', 'histogram_stddev', 'histogram_stdvar', 'histogram_sum', 'hour', 'idelta', 'increase', 'irate',
  'label_join', 'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'mad_over_time', 'max_over_time', 'min_over_time', 'minute', 'month', 'pi',
  'predict_linear', 'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sin', 'sinh', 'sort', 'sort_desc',
  'sort_by_label', 'sort_by_label_desc', 'sqrt', 'stddev_over_time', 'stdvar_over_time', 'sum_over_time', 'tan', 'tanh', 'time', 'timestamp', 'vector', 'year',
]);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
/** Keywords followed by a parenthesised list of label names. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan', ...LABEL_LIST_KEYWORDS]);

const IDENTIFIER_START = /[A-Za-z_:]/;
const IDENTIFIER_PART = /[A-Za-z0-9_:]/;

export class PromQLError extends Error {}

/** Metric names the expression selects, in order of appearance, without repeats. */
export function metricNames(expression: string): string[] {
  const names: string[] = [];
  const add = (name: string) => {
    if (!names.includes(name)) names.push(name);
  };
  let i = 0;
  const fail = (problem: string): never => {
    throw new PromQLError(`${problem} at offset ${i} of: ${expression}`);
  };
  const skipSpace = () => {
    while (i < expression.length && /\s/.test(expression[i]!)) i += 1;
  };
  const readString = (): string => {
    const quote = expression[i]!;
    let value = '';
    i += 1;
    while (i < expression.length && expression[i] !== quote) {
      if (expression[i] === '\\' && quote !== '`') i += 1;
      value += expression[i] ?? '';
      i += 1;
    }
    if (i >= expression.length) fail('unterminated string');
    i += 1;
    return value;
  };
  const readIdentifier = (): string => {
    const start = i;
    while (i < expression.length && IDENTIFIER_PART.test(expression[i]!)) i += 1;
    return expression.slice(start, i);
  };
  /** `{...}`: label matchers; only `__name__="x"` names a metric. */
  const readMatchers = () => {
    i += 1;
    while (i < expression.length && expression[i] !== '}') {
      skipSpace();
      if (expression[i] === '}') break;
      if (expression[i] === '"' || expression[i] === "'" || expression[i] === '`') {
        // Prometheus 3: a quoted metric name inside the braces.
        add(readString());
      } else if (IDENTIFIER_START.test(expression[i]!)) {
        const label = readIdentifier();
        skipSpace();
        const two = expression.slice(i, i + 2);
        const operator = two === '!=' || two === '=~' || two === '!~' ? two : expression[i] === '=' ? '=' : fail(`expected a matcher operator after label ${label}`);
        i += operator.length;
        skipSpace();
        const value = expression[i] === '"' || expression[i] === "'" || expression[i] === '`' ? readString() : fail(`expected a quoted value for label ${label}`);
        if (label === '__name__' && operator === '=') add(value);
      } else if (expression[i] === ',') {
        i += 1;
      } else fail(`unexpected ${expression[i]} in label matchers`);
      skipSpace();
    }
    if (expression[i] !== '}') fail('unclosed {');
    i += 1;
  };
  const skipPast = (close: string) => {
    const end = expression.indexOf(close, i);
    if (end < 0) fail(`unclosed ${close === ']' ? '[' : '('}`);
    i = end + 1;
  };

  while (i < expression.length) {
    const char = expression[i]!;
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === '"' || char === "'" || char === '`') {
      readString();
    } else if (char === '{') {
      readMatchers();
    } else if (char === '[') {
      skipPast(']');
    } else if (/[0-9.]/.test(char)) {
      // Numbers, durations (5m), hex, exponents.
      while (i < expression.length && /[0-9A-Za-z_.]/.test(expression[i]!)) i += 1;
    } else if (char === '$') {
      // A Grafana variable outside a selector ($__rate_interval is inside [...], already skipped).
      i += 1;
      readIdentifier();
    } else if (IDENTIFIER_START.test(char)) {
      const word = readIdentifier();
      const lower = word.toLowerCase();
      skipSpace();
      if (LABEL_LIST_KEYWORDS.has(lower)) {
        if (expression[i] === '(') skipPast(')');
      } else if (KEYWORDS.has(lower)) {
        // and, or, unless, bool, offset (its duration is a number token), atan2, inf, nan
      } else if (AGGREGATIONS.has(lower) && (expression[i] === '(' || /^(by|without)\b/i.test(expression.slice(i)))) {
        // sum(...), sum by (l) (...), sum(...) by (l)
      } else if (expression[i] === '(') {
        if (!FUNCTIONS.has(word)) fail(`unknown function ${word}`);
      } else {
        add(word);
      }
    } else {
      // Operators and parentheses.
      i += 1;
    }
  }
  return names;
}
