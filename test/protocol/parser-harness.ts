/**
 * Table-driven harness for the response parser: each case is run fed whole, split in two at every
 * byte, one byte at a time, and in seeded random-size chunks; the event lists (Data concatenated)
 * must all equal the expectation.
 */
import { Buffer } from "node:buffer"
import { expect, it } from "vitest"
import type { BodyFraming, HeadEvent, ParserLimits } from "../../src/protocol/events.js"
import { ResponseParser } from "../../src/protocol/ResponseParser.js"

export type Exp =
  | { readonly head: HeadEvent }
  | { readonly data: string }
  | { readonly end: ReadonlyArray<string> }
  | { readonly error: string; readonly fields?: Record<string, unknown> }

export interface Case {
  readonly name: string
  /** Latin-1 bytes. */
  readonly input: string
  /** Method(s) expected, in order (default GET). */
  readonly method?: string | ReadonlyArray<string>
  readonly limits?: Partial<ParserLimits>
  /** Whether EOF follows the input (default true). */
  readonly eof?: boolean
  readonly events: ReadonlyArray<Exp>
  /** Bytes left in the parser at the end (checked when given). */
  readonly leftover?: string
  /** Parser state at the end (checked when given). */
  readonly state?: string
}

export interface HeadOpts {
  readonly version?: 10 | 11
  readonly interim?: boolean
  readonly framing?: BodyFraming
  readonly contentLength?: number
  readonly keepAlive?: boolean
  readonly upgrade?: boolean
}

/** An expected Head. Framing defaults to "length" when contentLength is given, else "none". */
export const H = (status: number, reason: string, headers: ReadonlyArray<string> = [], o: HeadOpts = {}): Exp => ({
  head: {
    _tag: "Head",
    status,
    reason,
    version: o.version ?? 11,
    headers: [...headers],
    interim: o.interim ?? false,
    framing: o.framing ?? (o.contentLength !== undefined ? "length" : "none"),
    contentLength: o.contentLength,
    keepAlive: o.keepAlive ?? true,
    upgrade: o.upgrade ?? false
  }
})
export const D = (data: string): Exp => ({ data })
export const END = (trailers: ReadonlyArray<string> = []): Exp => ({ end: trailers })
export const E = (error: string, fields?: Record<string, unknown>): Exp =>
  fields === undefined ? { error } : { error, fields }

const keyFields: Record<string, ReadonlyArray<string>> = {
  BadStatusLine: ["line"],
  UnknownProtocol: ["version"],
  LineTooLong: ["what", "limit"],
  TooManyHeaders: ["what", "limit"],
  InvalidHeader: ["side"],
  IncompleteRead: ["expected"],
  UnknownTransferEncoding: ["value"]
}

export interface RunResult {
  readonly events: Array<Exp>
  readonly leftover: string
  readonly state: string
}

/** Runs the parser over `pieces`, draining events after every feed (and after EOF). */
export const runPieces = (c: Case, pieces: ReadonlyArray<Uint8Array>): RunResult => {
  const p = new ResponseParser(c.limits)
  const methods = c.method === undefined ? ["GET"] : typeof c.method === "string" ? [c.method] : c.method
  for (const m of methods) p.expect(m)
  const out: Array<Exp> = []
  let done = false
  const push = (e: Exp) => {
    const last = out[out.length - 1]
    if ("data" in e && last !== undefined && "data" in last) out[out.length - 1] = { data: last.data + e.data }
    else out.push(e)
  }
  const drain = () => {
    for (let k = 0; k < 100_000; k++) {
      const ev = p.next()
      switch (ev._tag) {
        case "NeedData":
          return
        case "Head":
          push({ head: { ...ev, headers: [...ev.headers] } })
          break
        case "Data":
          if (ev.bytes.length === 0) throw new Error("empty Data event")
          push({ data: Buffer.from(ev.bytes.buffer, ev.bytes.byteOffset, ev.bytes.length).toString("latin1") })
          break
        case "End":
          push({ end: [...ev.trailers] })
          break
        case "Error": {
          const fields: Record<string, unknown> = {}
          for (const f of keyFields[ev.error._tag] ?? []) fields[f] = (ev.error as unknown as Record<string, unknown>)[f]
          if (ev.error._tag === "IncompleteRead" && ev.error.partial.length !== 0) throw new Error("partial not empty")
          push(Object.keys(fields).length === 0 ? { error: ev.error._tag } : { error: ev.error._tag, fields })
          if (p.next() !== ev || p.next() !== ev) throw new Error("error state is not sticky")
          if (p.state !== "error") throw new Error("state is not error")
          done = true
          return
        }
      }
    }
    throw new Error("parser made no progress")
  }
  for (const piece of pieces) {
    p.feed(piece)
    if (!done) drain()
  }
  if (c.eof ?? true) {
    p.feedEof()
    if (!done) drain()
  }
  const state = p.state
  return { events: out, leftover: Buffer.from(p.takeBuffered()).toString("latin1"), state }
}

/** mulberry32 */
export const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const fresh = (b: Uint8Array, s: number, e: number) => Uint8Array.from(b.subarray(s, e))

/** All the ways a case is fed: name → pieces. */
export function* splits(bytes: Uint8Array): Generator<[string, Array<Uint8Array>]> {
  yield ["whole", [fresh(bytes, 0, bytes.length)]]
  // every split point; for large inputs, every point near the ends and a sample in between
  const n = bytes.length
  const step = n > 4000 ? Math.ceil(n / 500) : 1
  for (let i = 1; i < n; i++) {
    if (step > 1 && i > 400 && i < n - 400 && i % step !== 0) continue
    yield [`split@${i}`, [fresh(bytes, 0, i), fresh(bytes, i, n)]]
  }
  if (bytes.length > 1) {
    const one: Array<Uint8Array> = []
    for (let i = 0; i < bytes.length; i++) one.push(fresh(bytes, i, i + 1))
    yield ["bytewise", one]
  }
  for (const seed of [1, 2, 3]) {
    const rnd = prng(seed * 7919 + bytes.length)
    const ps: Array<Uint8Array> = []
    for (let i = 0; i < bytes.length; ) {
      const n = 1 + Math.floor(rnd() * 12)
      ps.push(fresh(bytes, i, Math.min(bytes.length, i + n)))
      i += n
    }
    yield [`random#${seed}`, ps]
  }
}

const normalize = (actual: Array<Exp>, expected: ReadonlyArray<Exp>, whole: boolean): Array<Exp> =>
  actual.map((a, i) => {
    // An early BadStatusLine reports the part of the line that had arrived: a prefix of the whole line.
    const e = expected[i]
    if (
      !whole && e !== undefined && "error" in a && "error" in e && a.error === "BadStatusLine" &&
      e.error === "BadStatusLine" && typeof a.fields?.["line"] === "string" && typeof e.fields?.["line"] === "string" &&
      (e.fields["line"] as string).startsWith(a.fields["line"] as string)
    ) {
      return e
    }
    return a
  })

export const checkCase = (c: Case): void => {
  const bytes = Buffer.from(c.input, "latin1")
  for (const [mode, pieces] of splits(bytes)) {
    const r = runPieces(c, pieces)
    const events = normalize(r.events, c.events, mode === "whole")
    expect(events, `${c.name} [${mode}]`).toEqual(c.events)
    if (c.leftover !== undefined) expect(r.leftover, `${c.name} [${mode}] leftover`).toBe(c.leftover)
    if (c.state !== undefined) expect(r.state, `${c.name} [${mode}] state`).toBe(c.state)
  }
}

/** Registers one vitest test per case. */
export const runCases = (cases: ReadonlyArray<Case>): void => {
  const seen = new Set<string>()
  for (const c of cases) {
    if (seen.has(c.name)) throw new Error(`duplicate case name ${c.name}`)
    seen.add(c.name)
    it(c.name, () => checkCase(c))
  }
}
