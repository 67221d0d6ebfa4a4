/**
 * The only changes the system test makes to the rendered configuration:
 * hostnames, ports, TLS to the local PostgreSQL, paths of the pod's volumes
 * and provider base URLs. Each change is recorded (secret values masked) and
 * printed, so the report says exactly where the run differs from a pod.
 */
export interface Rule {
  /** What is replaced inside a value (a RegExp or an exact substring). */
  match: RegExp | string;
  replace: string;
  why: string;
}

export class Overrides {
  readonly lines: string[] = [];
  private readonly secrets = new Set<string>();

  constructor(private readonly log: (line: string) => void) {}

  /** Values never printed in clear (and their URL-escaped forms). */
  hide(...values: string[]): void {
    for (const value of values) if (value.length >= 6) this.secrets.add(value);
  }

  mask(text: string): string {
    let out = text;
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join('***');
      out = out.split(encodeURIComponent(secret)).join('***');
    }
    return out;
  }

  note(line: string): void {
    const masked = this.mask(line);
    this.lines.push(masked);
    this.log(`override ${masked}`);
  }

  /** Applies the rules to every value of `env` and records each change. */
  rewrite(processName: string, env: Record<string, string>, rules: Rule[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(env)) {
      let next = value;
      const why: string[] = [];
      for (const rule of rules) {
        const replaced = typeof rule.match === 'string' ? next.split(rule.match).join(rule.replace) : next.replace(rule.match, rule.replace);
        if (replaced !== next) why.push(rule.why);
        next = replaced;
      }
      if (next !== value) this.note(`${processName} ${key}: ${value} → ${next} (${[...new Set(why)].join('; ')})`);
      out[key] = next;
    }
    return out;
  }

  /** Sets (or removes, with undefined) one variable and records it. */
  set(processName: string, env: Record<string, string>, key: string, value: string | undefined, why: string): void {
    const before = env[key];
    if (value === undefined) delete env[key];
    else env[key] = value;
    this.note(`${processName} ${key}: ${before ?? '(unset)'} → ${value ?? '(unset)'} (${why})`);
  }
}
