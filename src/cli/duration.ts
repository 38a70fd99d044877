/**
 * Durations and sizes as the command line spells them: `2` and `0.5` are seconds (as curl's
 * `--connect-timeout` / `--max-time`), `500ms`, `10s`, `2m` carry their unit.
 * @since 0.1.0
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 }

/**
 * Milliseconds of `text`, or `undefined` when it is not a positive duration.
 *
 * @example
 * ```ts
 * parseDurationMs("1.5") // 1500
 * parseDurationMs("250ms") // 250
 * ```
 */
export const parseDurationMs = (text: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text)
  if (m === null) return undefined
  const unit = m[2] === "" ? 1000 : UNITS[m[2]!.toLowerCase()]
  if (unit === undefined) return undefined
  const ms = Number(m[1]) * unit
  return Number.isFinite(ms) && ms > 0 ? ms : undefined
}

/** `1234567` → `"1.2 MiB"`: binary units, one decimal past KiB. */
export const formatBytes = (n: number): string => {
  if (n < 1024) return `${n} B`
  const units = ["KiB", "MiB", "GiB", "TiB"]
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}

/** Milliseconds for people: `0.42 ms`, `12.3 ms`, `1.20 s`. */
export const formatMs = (ms: number): string =>
  ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`
