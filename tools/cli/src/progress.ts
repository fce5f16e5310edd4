import cliProgress from 'cli-progress';

/**
 * Progress on stderr: on a terminal a bar drawn by cli-progress (redraw rate, cursor, clipping to
 * the terminal width, messages printed above the bar); otherwise a plain line every 10% or 10 s
 * and at the end, written here: cli-progress's non-terminal mode writes on a timer only, and CI
 * logs and scripts read these lines.
 */
export class Progress {
  private bars: cliProgress.MultiBar | undefined;
  private bar: cliProgress.SingleBar | undefined;
  private done = 0;
  private errors = 0;
  private retries = 0;
  private readonly started = Date.now();
  private lastPlainAt = 0;
  private lastPlainDone = 0;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {
    if (!(tty && enabled)) return;
    const width = 24;
    this.bars = new cliProgress.MultiBar({
      stream,
      fps: 10,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      format: (_options, params) => {
        const filled = params.total > 0 ? Math.round((params.value / params.total) * width) : width;
        return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${this.line()}`;
      },
    });
    this.bar = this.bars.create(total, 0);
  }

  tick(ok: boolean): void {
    this.done += 1;
    if (!ok) this.errors += 1;
    this.draw(false);
  }

  retry(): void {
    this.retries += 1;
    this.draw(false);
  }

  /** Something to say between redraws (warnings). */
  log(msg: string): void {
    if (this.bars) {
      this.bars.log(`${msg}\n`);
      this.bars.update();
      return;
    }
    this.stream.write(`${msg}\n`);
    if (this.enabled) this.draw(true);
  }

  finish(): void {
    if (!this.enabled) return;
    this.draw(true);
    const secs = (Date.now() - this.started) / 1000;
    this.bars?.stop();
    this.stream.write(`done: ${this.done} file${this.done === 1 ? '' : 's'} in ${secs.toFixed(1)} s (${this.rate().toFixed(1)} files/s), ${this.errors} error${this.errors === 1 ? '' : 's'}, ${this.retries} retr${this.retries === 1 ? 'y' : 'ies'}\n`);
  }

  private rate(): number {
    const secs = (Date.now() - this.started) / 1000;
    return secs > 0 ? this.done / secs : 0;
  }

  private line(): string {
    const pct = this.total > 0 ? this.done / this.total : 1;
    const rate = this.rate();
    const left = this.total - this.done;
    const eta = this.done > 0 && rate > 0 ? formatDuration(left / rate) : '--:--';
    const parts = [`${this.done}/${this.total}`, `${Math.floor(pct * 100)}%`, `${rate.toFixed(1)} files/s`, `ETA ${eta}`];
    if (this.errors) parts.push(`${this.errors} error${this.errors === 1 ? '' : 's'}`);
    if (this.retries) parts.push(`${this.retries} retr${this.retries === 1 ? 'y' : 'ies'}`);
    return parts.join('  ');
  }

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (this.bar) {
      this.bar.update(this.done);
      if (force) this.bars!.update();
      return;
    }
    // Not a terminal (CI logs, files): a line every 10% or every 10 s, and at the end.
    const step = Math.max(1, Math.ceil(this.total / 10));
    const due = this.done === this.total || this.done - this.lastPlainDone >= step || now - this.lastPlainAt >= 10_000;
    if ((!force && !due) || this.done === this.lastPlainDone) return;
    this.lastPlainAt = now;
    this.lastPlainDone = this.done;
    this.stream.write(`progress ${this.line()}\n`);
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
