/**
 * Parsers for the metrics formats of notes/yugabytedb.md, into one flat sample list: Prometheus
 * text (with or without `# HELP`/`# TYPE`, escaped label values, trailing ms timestamps, NaN/±Inf)
 * and the YugabyteDB `/metrics` JSON (histograms become `_count`, `_sum` and `{quantile=…}`).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** The trailing timestamp (ms since the epoch), when the line carried one. */
  timestampMs?: number;
}

export interface ParseOutcome {
  samples: Sample[];
  /** Lines that were neither comments nor samples (skipped, never fatal). */
  skipped: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

export function parseNumber(text: string): number | null {
  switch (text) {
    case 'NaN': return NaN;
    case '+Inf': case 'Inf': case '+inf': case 'inf': return Infinity;
    case '-Inf': case '-inf': return -Infinity;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return null;
  return Number(text);
}

/** Parses Prometheus text exposition; tolerant: a line it cannot read is skipped and counted. */
export function parsePrometheusText(text: string): ParseOutcome {
  const samples: Sample[] = [];
  let skipped = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseLine(line);
    if (sample) samples.push(sample);
    else skipped++;
  }
  return { samples, skipped };
}

function parseLine(line: string): Sample | null {
  const m = NAME.exec(line);
  if (!m) return null;
  const name = m[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') { i++; break; }
      const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!key) return null;
      i += key[0].length;
      while (line[i] === ' ') i++;
      if (line[i] !== '=') return null;
      i++;
      while (line[i] === ' ') i++;
      if (line[i] !== '"') return null;
      i++;
      let value = '';
      for (;;) {
        if (i >= line.length) return null;
        const c = line[i];
        if (c === '\\') {
          const n = line[i + 1];
          value += n === 'n' ? '\n' : n ?? '';
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      labels[key[0]] = value;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') return null;
  const value = parseNumber(rest[0]);
  if (value === null) return null;
  const sample: Sample = { name, labels, value };
  if (rest.length === 2) {
    const ts = parseNumber(rest[1]);
    if (ts === null || !Number.isFinite(ts)) return null;
    sample.timestampMs = ts;
  }
  return sample;
}

/** Histogram fields of the JSON form, and the quantile label each becomes. */
const JSON_QUANTILES: Array<[string, string]> = [
  ['percentile_50', 'p50'], ['percentile_75', 'p75'], ['percentile_95', 'p95'], ['percentile_99', 'p99'],
  ['percentile_99_9', 'p99.9'], ['percentile_99_99', 'p99.99'], ['mean', 'mean'], ['min', 'min'], ['max', 'max'],
];

/**
 * Parses YugabyteDB `/metrics` JSON: `[{type,id,attributes,metrics:[{name,value}|{name,total_count,…}]}]`.
 * Entity type and id become the `metric_type`/`metric_id` labels, as in the Prometheus form.
 * Throws when the text is not that JSON shape.
 */
export function parseYbMetricsJson(text: string): ParseOutcome {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error('not a YugabyteDB /metrics JSON array');
  const samples: Sample[] = [];
  let skipped = 0;
  for (const entity of parsed) {
    if (!isRecord(entity) || !Array.isArray(entity.metrics)) { skipped++; continue; }
    const labels: Record<string, string> = {};
    if (typeof entity.type === 'string') labels.metric_type = entity.type;
    if (typeof entity.id === 'string') labels.metric_id = entity.id;
    if (isRecord(entity.attributes)) {
      for (const [k, v] of Object.entries(entity.attributes)) if (typeof v === 'string') labels[k] = v;
    }
    for (const metric of entity.metrics) {
      if (!isRecord(metric) || typeof metric.name !== 'string') { skipped++; continue; }
      const name = metric.name;
      if (typeof metric.value === 'number') {
        samples.push({ name, labels, value: metric.value });
      } else if (typeof metric.total_count === 'number') {
        samples.push({ name: `${name}_count`, labels, value: metric.total_count });
        if (typeof metric.total_sum === 'number') samples.push({ name: `${name}_sum`, labels, value: metric.total_sum });
        for (const [field, quantile] of JSON_QUANTILES) {
          const v = metric[field];
          if (typeof v === 'number') samples.push({ name, labels: { ...labels, quantile }, value: v });
        }
      } else {
        skipped++;
      }
    }
  }
  return { samples, skipped };
}

/** Either format, told apart by the first character. */
export function parseMetricsBody(text: string): ParseOutcome & { format: 'prometheus' | 'json' } {
  const first = text.trimStart()[0];
  if (first === '[') return { ...parseYbMetricsJson(text), format: 'json' };
  return { ...parsePrometheusText(text), format: 'prometheus' };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
