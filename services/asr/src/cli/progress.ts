import type { WriteStream } from "node:tty";

/**
 * Progress on stderr: a redrawn bar when stderr is a terminal, one plain line per finished file
 * otherwise (logs and CI output stay readable).
 */
export class ProgressReporter {
  private done = 0;
  private failed = 0;
  private audioMs = 0;
  private readonly started = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean((out as WriteStream).isTTY);
    if (this.tty) this.draw("");
  }

  fileDone(file: string, audioMs: number, error?: string): void {
    this.done++;
    this.audioMs += audioMs;
    if (error !== undefined) this.failed++;
    if (this.tty) {
      if (error !== undefined) this.out.write(`\r\x1b[2K${file}: ${error}\n`);
      this.draw(file);
    } else {
      this.out.write(
        `[${this.done}/${this.total}] ${file}${error !== undefined ? `: FAILED: ${error}` : ""}\n`,
      );
    }
  }

  finish(): void {
    if (this.tty) this.out.write("\n");
  }

  private draw(current: string): void {
    const width = 30;
    const fraction = this.total === 0 ? 1 : this.done / this.total;
    const filled = Math.round(fraction * width);
    const elapsedS = (Date.now() - this.started) / 1000;
    const speed = elapsedS > 0 ? this.audioMs / 1000 / elapsedS : 0;
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const failed = this.failed > 0 ? `, ${this.failed} failed` : "";
    const columns = (this.out as WriteStream).columns ?? 100;
    const line = `[${bar}] ${this.done}/${this.total} files${failed}, ${speed.toFixed(1)}x real time ${current}`;
    this.out.write(`\r\x1b[2K${line.slice(0, Math.max(20, columns - 1))}`);
  }
}
