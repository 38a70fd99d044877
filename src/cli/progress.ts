/**
 * The download progress bar, drawn on stderr (a TTY) with `\r`: bytes, rate and ETA when the
 * length is known, a spinner and the byte count for a body of unknown length (chunked or
 * read-to-close). Redrawn at most every 100 ms, and once more at the end.
 * @since 0.1.0
 */
import { formatBytes } from "./duration.js"

/** Where the bar is drawn: a TTY stream's `write` and its width. */
export interface ProgressSink {
  readonly write: (text: string) => void
  readonly columns: number
}

const SPINNER = ["|", "/", "-", "\\"]

const clock = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return "--:--"
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const pad = (n: number) => String(n).padStart(2, "0")
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`
}

/** One bar for one body. */
export class ProgressBar {
  private bytes = 0
  private lastDraw = 0
  private frame = 0
  private readonly started = Date.now()
  private drawn = false

  constructor(
    private readonly sink: ProgressSink,
    /** Content-Length, when the response gave one. */
    private readonly total: number | undefined
  ) {}

  /** `n` more bytes arrived. */
  add(n: number): void {
    this.bytes += n
    const now = Date.now()
    if (now - this.lastDraw >= 100) {
      this.lastDraw = now
      this.draw(now)
    }
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    this.draw(Date.now())
    this.sink.write("\n")
  }

  /** The line as it would be drawn now (exported for tests of the layout). */
  render(now: number): string {
    const elapsed = Math.max(0.001, (now - this.started) / 1000)
    const rate = this.bytes / elapsed
    const rateText = `${formatBytes(Math.round(rate))}/s`
    if (this.total === undefined || this.total <= 0) {
      const spin = SPINNER[this.frame++ % SPINNER.length]!
      return `${spin} ${formatBytes(this.bytes)}  ${rateText}`
    }
    const ratio = Math.min(1, this.bytes / this.total)
    const pct = `${Math.floor(ratio * 100)}%`.padStart(4)
    const eta = rate > 0 ? (this.total - this.bytes) / rate : Number.POSITIVE_INFINITY
    const tail = ` ${pct} ${formatBytes(this.bytes)} / ${formatBytes(this.total)}  ${rateText}  ETA ${clock(eta)}`
    const width = Math.max(10, Math.min(40, this.sink.columns - tail.length - 3))
    const full = Math.round(ratio * width)
    return `[${"#".repeat(full)}${" ".repeat(width - full)}]${tail}`
  }

  private draw(now: number): void {
    const line = this.render(now)
    // Clear the rest of the previous line (it may have been longer).
    this.sink.write(`\r${line}\x1b[K`)
    this.drawn = true
  }

  /** Whether anything was drawn. */
  get visible(): boolean {
    return this.drawn
  }
}
