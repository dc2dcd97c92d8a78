/**
 * A strict reader of the Prometheus text exposition format 0.0.4 for the tests: every line is
 * a HELP, a TYPE or a sample of a family whose TYPE came first; anything else throws.
 */
export interface PrometheusSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PrometheusFamily {
  readonly type: string;
  readonly help: string;
  readonly samples: PrometheusSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/y;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', '_info'];

export function parsePrometheusText(text: string): Map<string, PrometheusFamily> {
  const families = new Map<string, PrometheusFamily>();
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    const fail = (why: string): never => { throw new Error(`line ${index + 1} ${why}: ${line}`); };
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      const [, kind, name, ...rest] = line.split(' ');
      if (name === undefined || !METRIC_NAME.test(name)) fail('has a bad metric name');
      const family = families.get(name!) ?? { type: '', help: '', samples: [] };
      families.set(name!, kind === 'HELP' ? { ...family, help: rest.join(' ') } : { ...family, type: rest.join(' ') });
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line) ?? fail('is not a sample');
    const [, name = '', rawLabels, rawValue = ''] = match;
    const familyName = families.has(name) ? name : SUFFIXES.map((s) => (name.endsWith(s) ? name.slice(0, -s.length) : '')).find((base) => families.has(base));
    const family = familyName === undefined ? undefined : families.get(familyName);
    if (family === undefined || family.type === '') fail('belongs to no declared family');
    const labels: Record<string, string> = {};
    if (rawLabels !== undefined && rawLabels !== '') {
      LABEL_PAIR.lastIndex = 0;
      while (LABEL_PAIR.lastIndex < rawLabels.length) {
        const pair = LABEL_PAIR.exec(rawLabels) ?? fail('has malformed labels');
        labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
      }
    }
    // Values are Go ParseFloat numbers: NaN and ±Inf in any case (prom-client writes 'Nan').
    const special: Record<string, number> = { nan: Number.NaN, '+inf': Infinity, inf: Infinity, '-inf': -Infinity };
    const value = special[rawValue.toLowerCase()] ?? Number(rawValue);
    if (Number.isNaN(value) && rawValue.toLowerCase() !== 'nan') fail('has a bad value');
    family!.samples.push({ name, labels, value });
  }
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function sampleValue(families: Map<string, PrometheusFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) return sample.value;
    }
  }
  return undefined;
}
