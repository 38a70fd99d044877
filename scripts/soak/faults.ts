/**
 * The soak's vocabulary: the faults the server injects, what the client does with each response,
 * their default weights, a seeded random source, and the body every healthy response carries.
 *
 * The client picks the fault of each request and names it in the path
 * (`/soak/<fault>/<id>/<size>`), so the server needs no state to know what to do and the client
 * knows what it may accept as a success.
 */

/** What the server does with one request. */
export const FAULTS = [
  /** 200 with Content-Length. */
  "ok",
  /** 200, chunked. */
  "okChunked",
  /** 200 delimited by the close of the connection (no Content-Length, `Connection: close`). */
  "okClose",
  /** A healthy HEAD: Content-Length announced, no body. */
  "head",
  /** 200 after a short delay, the body in a few pieces (the target of most interruptions). */
  "slow",
  /** 200 with Content-Length, then the server closes the idle keep-alive socket 0–20 ms later. */
  "idleClose",
  /** The head a few bytes at a time, done well within `headersTimeout`. */
  "trickleFast",
  /** The head a few bytes at a time over 2.5 × `headersTimeout` (each gap shorter than it): must time out. */
  "trickleSlow",
  /** RST as soon as the request arrives. */
  "resetBeforeHead",
  /** FIN (clean close) as soon as the request arrives. */
  "closeBeforeHead",
  /** Head and half the body, then RST. */
  "resetMidBody",
  /** Nothing at all: the server keeps the socket and stops sending. */
  "stallHead",
  /** Head and half the body, then nothing. */
  "stallBody",
  /** 204 with, in the same write, bytes that should not be there (see `lateShape`). */
  "late204",
  /** HEAD answered with Content-Length and, in the same write, the body (see `lateShape`). */
  "lateHead",
  /** A line that is not a status line, then the server waits. */
  "garbage"
] as const
export type Fault = (typeof FAULTS)[number]

/** Faults after which a correct client returns the response as a success (and must not fail it). */
export const HEALTHY: ReadonlySet<Fault> = new Set<Fault>(["ok", "okChunked", "okClose", "head", "slow", "idleClose", "trickleFast"])

/** Faults answered to a HEAD request. */
export const HEAD_FAULTS: ReadonlySet<Fault> = new Set<Fault>(["head", "lateHead"])

/** What the caller does with the response. */
export const ACTIONS = [
  /** Reads the whole body. */
  "read",
  /** Reads the body as a stream. */
  "stream",
  /** Looks at status and headers only; the body is never read. */
  "unread",
  /** Interrupts the request's fiber after 0–40 ms, wherever it is. */
  "interrupt"
] as const
export type Action = (typeof ACTIONS)[number]

export type Weights<K extends string> = { readonly [k in K]?: number }

/**
 * Default fault mix, per 10 000 requests. Most requests are healthy so that the pool reuses its
 * sockets; the slow faults (stalls, slow trickles: each holds a socket for about a second) are
 * rare so that they do not starve 16 callers of connections.
 */
export const DEFAULT_FAULT_WEIGHTS: Weights<Fault> = {
  ok: 7600,
  okChunked: 700,
  okClose: 150,
  head: 300,
  slow: 400,
  idleClose: 300,
  trickleFast: 30,
  trickleSlow: 6,
  resetBeforeHead: 80,
  closeBeforeHead: 80,
  resetMidBody: 80,
  stallHead: 6,
  stallBody: 6,
  late204: 80,
  lateHead: 80,
  garbage: 80
}

/** Default caller behaviour, per 100 requests. */
export const DEFAULT_ACTION_WEIGHTS: Weights<Action> = { read: 84, stream: 6, unread: 5, interrupt: 5 }

/** Only healthy faults, everything read: the harness's own check (wrong responses must be 0 here on any client). */
export const HEALTHY_ONLY: Weights<Fault> = { ok: 80, okChunked: 10, okClose: 3, head: 5, slow: 2 }

/**
 * Parses `"ok=100,stallHead=2"` into weights over `names`; names left out keep their weight
 * from `base` unless `only` is set (then they are 0).
 */
export const parseWeights = <K extends string>(
  text: string,
  names: ReadonlyArray<K>,
  base: Weights<K>,
  only = false
): Weights<K> | string => {
  const out: { [k in K]?: number } = only ? {} : { ...base }
  for (const part of text.split(",")) {
    const p = part.trim()
    if (p === "") continue
    const m = /^([A-Za-z0-9]+)\s*[=:]\s*(\d+(?:\.\d+)?)$/.exec(p)
    if (m === null) return `bad weight "${p}": expected name=number`
    const name = m[1] as K
    if (!names.includes(name)) return `unknown name "${m[1]}"; choose from ${names.join(", ")}`
    out[name] = Number(m[2])
  }
  return out
}

/** mulberry32: a small seeded generator, so that a run's mix can be replayed with `--seed`. */
export const rng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A picker over `names` with `weights` (names without weight, or 0, are never picked). */
export const picker = <K extends string>(names: ReadonlyArray<K>, weights: Weights<K>, random: () => number): (() => K) => {
  const entries = names.map((n) => [n, Math.max(0, weights[n] ?? 0)] as const).filter(([, w]) => w > 0)
  const total = entries.reduce((s, [, w]) => s + w, 0)
  if (total <= 0) throw new Error(`no positive weight among ${names.join(", ")}`)
  return () => {
    let r = random() * total
    for (const [n, w] of entries) {
      r -= w
      if (r < 0) return n
    }
    return entries[entries.length - 1]![0]
  }
}

/** Body sizes: mostly small, sometimes a few KiB, rarely 64–256 KiB (several reads). */
export const pickSize = (random: () => number): number => {
  const r = random()
  if (r < 0.85) return Math.floor(random() * 200)
  if (r < 0.99) return 1024 + Math.floor(random() * 16 * 1024)
  return 64 * 1024 + Math.floor(random() * 192 * 1024)
}

/**
 * The body of a healthy response to request `id` with `size` filler bytes: `id:<id>;` and the id
 * repeated, so that bytes of another response anywhere in it are seen.
 */
export const expectedBody = (id: string, size: number): string => {
  const unit = `${id}|`
  return `id:${id};${unit.repeat(Math.ceil(size / unit.length)).slice(0, size)}`
}
