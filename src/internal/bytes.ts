/**
 * Byte and duration helpers shared by the connection, the pool and the transports.
 * @internal
 */
import { Duration } from "effect"

const EMPTY = new Uint8Array(0)

/** One buffer from `parts`: the single part itself when there is one (no copy), else a concatenation. */
export const concatBytes = (parts: ReadonlyArray<Uint8Array>, total?: number): Uint8Array => {
  if (parts.length === 1) return parts[0]!
  if (parts.length === 0) return EMPTY
  return Buffer.concat(parts, total)
}

/** Milliseconds of a duration option; `undefined` when absent or infinite (no timeout). */
export const millisOf = (d: Duration.DurationInput | undefined): number | undefined => {
  if (d === undefined) return undefined
  const ms = Duration.toMillis(Duration.decode(d))
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined
}
