/**
 * Typed, validated reading of environment variables. Every problem is collected so that one
 * start-up attempt reports all bad variables at once, each by name.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Source = Record<string, string | undefined>;

export class EnvReader {
  private readonly problems: string[] = [];
  constructor(private readonly source: Source = process.env) {}

  private raw(name: string): string | undefined {
    const v = this.source[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(name: string, fallback: string): string;
  string(name: string, fallback?: undefined): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback;
  }

  required(name: string): string {
    const v = this.raw(name);
    if (v === undefined) {
      this.problems.push(`${name} is required but not set`);
      return '';
    }
    return v;
  }

  int(name: string, fallback: number, opts: { min?: number; max?: number } = {}): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!/^-?\d+$/.test(v)) {
      this.problems.push(`${name} must be an integer, got "${v}"`);
      return fallback;
    }
    return this.checkRange(name, Number(v), fallback, opts);
  }

  number(name: string, fallback: number, opts: { min?: number; max?: number } = {}): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) {
      this.problems.push(`${name} must be a number, got "${v}"`);
      return fallback;
    }
    return this.checkRange(name, n, fallback, opts);
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    this.problems.push(`${name} must be a boolean (true/false), got "${v}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${v}"`);
      return fallback;
    }
    return v as T;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const v = this.raw(name) ?? fallback;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) this.problems.push(`${name} must use ${protocols.join(' or ')}, got "${u.protocol}"`);
    } catch {
      this.problems.push(`${name} must be a URL, got "${v}"`);
    }
    return v;
  }

  list(name: string, fallback: string[]): string[] {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    return v.split(',').map((s) => s.trim()).filter(Boolean);
  }

  /** Adds a cross-field problem (e.g. lower bound above upper bound). */
  check(ok: boolean, problem: string): void {
    if (!ok) this.problems.push(problem);
  }

  /** Throws a ConfigError naming every bad variable, if any. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError([...this.problems]);
  }

  private checkRange(name: string, n: number, fallback: number, { min, max }: { min?: number; max?: number }): number {
    if (min !== undefined && n < min) {
      this.problems.push(`${name} must be >= ${min}, got ${n}`);
      return fallback;
    }
    if (max !== undefined && n > max) {
      this.problems.push(`${name} must be <= ${max}, got ${n}`);
      return fallback;
    }
    return n;
  }
}
