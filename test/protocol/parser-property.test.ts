/**
 * Property tests of the response parser:
 * 1. valid responses (random status, reason, fields, body framed by length or chunked with random
 *    chunk sizes, extensions and trailers, optional interim responses) serialized and parsed in
 *    random pieces give back the same fields and body;
 * 2. arbitrary bytes, alone or after a valid prefix, never throw and end in End or Error within a
 *    bounded number of `next()` calls once EOF is fed.
 */
import { Buffer } from "node:buffer"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { HeadEvent, ParserEvent } from "../../src/protocol/events.js"
import { ResponseParser } from "../../src/protocol/ResponseParser.js"

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const reserved = new Set(["content-length", "transfer-encoding", "connection"])

const token = fc
  .array(fc.constantFrom(...TCHARS.split("")), { minLength: 1, maxLength: 12 })
  .map((a) => a.join(""))
  .filter((n) => !reserved.has(n.toLowerCase()))

/** field-vchar / obs-text, with inner SP/HTAB, never starting or ending with whitespace. */
const fieldValue = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0x21, max: 0x7e }),
      fc.integer({ min: 0x80, max: 0xff }),
      fc.constantFrom(0x20, 0x09)
    ),
    { maxLength: 20 }
  )
  .map((cs) => String.fromCharCode(...cs).replace(/^[ \t]+|[ \t]+$/g, ""))

const ows = fc.constantFrom("", " ", "\t", "  ", " \t ")
const eol = fc.constantFrom("\r\n", "\n")

const field = fc.record({ name: token, value: fieldValue, pre: ows, post: ows, eol })
type Field = typeof field extends fc.Arbitrary<infer T> ? T : never

const reason = fc
  .array(fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x20)), { maxLength: 16 })
  .map((cs) => String.fromCharCode(...cs).trim())

const body = fc.uint8Array({ maxLength: 300 })

const response = fc.record({
  status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
  reason,
  version: fc.constantFrom("HTTP/1.1", "HTTP/1.0"),
  fields: fc.array(field, { maxLength: 8 }),
  interim: fc.array(fc.record({ status: fc.constantFrom(100, 102, 103), fields: fc.array(field, { maxLength: 2 }) }), { maxLength: 2 }),
  body,
  chunked: fc.boolean(),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
  ext: fc.array(fc.constantFrom("", ";a=b", ";x", ' ;q="1;2"'), { minLength: 1, maxLength: 4 }),
  upperHex: fc.boolean(),
  trailers: fc.array(field, { maxLength: 3 }),
  splits: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 60 })
})
type Resp = typeof response extends fc.Arbitrary<infer T> ? T : never

const fieldLines = (fs: ReadonlyArray<Field>) => fs.map((f) => `${f.name}:${f.pre}${f.value}${f.post}${f.eol}`).join("")
const flat = (fs: ReadonlyArray<Field>) => fs.flatMap((f) => [f.name, f.value])

const serialize = (r: Resp): Buffer => {
  const parts: Array<Buffer> = []
  for (const i of r.interim) parts.push(Buffer.from(`HTTP/1.1 ${i.status} Info\r\n${fieldLines(i.fields)}\r\n`, "latin1"))
  let head = `${r.version} ${r.status}${r.reason === "" ? "" : " " + r.reason}\r\n${fieldLines(r.fields)}`
  head += r.chunked ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${r.body.length}\r\n`
  parts.push(Buffer.from(head + "\r\n", "latin1"))
  if (!r.chunked) {
    parts.push(Buffer.from(r.body))
  } else {
    let at = 0
    let k = 0
    while (at < r.body.length) {
      const n = Math.min(r.chunkSizes[k % r.chunkSizes.length]!, r.body.length - at)
      const hex = r.upperHex ? n.toString(16).toUpperCase() : n.toString(16)
      parts.push(Buffer.from(`${hex}${r.ext[k % r.ext.length]}\r\n`, "latin1"), Buffer.from(r.body.subarray(at, at + n)), Buffer.from("\r\n"))
      at += n
      k++
    }
    parts.push(Buffer.from(`0\r\n${fieldLines(r.trailers).replace(/\n/g, "\r\n").replace(/\r\r/g, "\r")}\r\n`, "latin1"))
  }
  return Buffer.concat(parts)
}

const cut = (bytes: Buffer, sizes: ReadonlyArray<number>): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  let at = 0
  for (const s of sizes) {
    if (at >= bytes.length) break
    out.push(Uint8Array.from(bytes.subarray(at, at + s)))
    at += s
  }
  if (at < bytes.length) out.push(Uint8Array.from(bytes.subarray(at)))
  return out
}

/** Feeds the pieces, draining after each; returns the events (bounded number of next() calls). */
const run = (pieces: ReadonlyArray<Uint8Array>, eof: boolean, methods: ReadonlyArray<string> = ["GET"]) => {
  const p = new ResponseParser()
  for (const m of methods) p.expect(m)
  const events: Array<ParserEvent> = []
  let total = 0
  for (const c of pieces) total += c.length
  const budget = 4 * total + 50
  let calls = 0
  let stop = false
  const drain = () => {
    while (!stop) {
      if (++calls > budget) throw new Error(`more than ${budget} next() calls`)
      const ev = p.next()
      if (ev._tag === "NeedData") return
      events.push(ev)
      if (ev._tag === "Error") stop = true
    }
  }
  for (const c of pieces) {
    p.feed(c)
    drain()
  }
  if (eof) {
    p.feedEof()
    drain()
  }
  return { events, parser: p }
}

describe("parser properties", () => {
  it("valid responses round-trip through random splits", () => {
    fc.assert(
      fc.property(response, (r) => {
        const bytes = serialize(r)
        const { events, parser } = run(cut(bytes, r.splits), false)
        const heads = events.filter((e): e is HeadEvent => e._tag === "Head")
        expect(heads.length).toBe(r.interim.length + 1)
        r.interim.forEach((i, k) => {
          expect(heads[k]).toMatchObject({ status: i.status, interim: true, headers: flat(i.fields) })
        })
        const h = heads[heads.length - 1]!
        const framing = r.chunked ? ["Transfer-Encoding", "chunked"] : ["Content-Length", String(r.body.length)]
        expect(h).toMatchObject({
          status: r.status,
          reason: r.reason,
          version: r.version === "HTTP/1.0" ? 10 : 11,
          headers: [...flat(r.fields), ...framing],
          interim: false,
          upgrade: false,
          framing: r.chunked ? "chunked" : "length",
          keepAlive: r.version === "HTTP/1.1"
        })
        const data = Buffer.concat(events.flatMap((e) => (e._tag === "Data" ? [e.bytes] : [])))
        expect(data.equals(Buffer.from(r.body))).toBe(true)
        const last = events[events.length - 1]!
        expect(last).toEqual({ _tag: "End", trailers: r.chunked ? flat(r.trailers) : [] })
        expect(parser.state).toBe("idle")
        expect(parser.bufferedLength).toBe(0)
      }),
      { numRuns: 300, seed: 42 }
    )
  })

  it("two pipelined valid responses parse back to back", () => {
    fc.assert(
      fc.property(response, response, (a, b) => {
        const bytes = Buffer.concat([serialize(a), serialize(b)])
        const { events } = run(cut(bytes, a.splits), false, ["GET", "GET"])
        const ends = events.filter((e) => e._tag === "End")
        expect(ends.length).toBe(2)
        expect(events.some((e) => e._tag === "Error")).toBe(false)
      }),
      { numRuns: 150, seed: 7 }
    )
  })

  const ended = (events: ReadonlyArray<ParserEvent>) => {
    const last = events[events.length - 1]
    return last !== undefined && (last._tag === "End" || last._tag === "Error")
  }

  it("arbitrary bytes never throw and end in End or Error after EOF", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 20 }), (bytes, sizes) => {
        const { events } = run(cut(Buffer.from(bytes), sizes), true)
        expect(ended(events)).toBe(true)
      }),
      { numRuns: 300, seed: 1 }
    )
  })

  it("HTTP-ish random text never throws and ends in End or Error after EOF", () => {
    const piece = fc.constantFrom(
      "HTTP/1.1 ", "HTTP/1.0 ", "200 ", "100 ", "101", "204", "OK", "\r\n", "\n", "\r", " ", "\t", ":",
      "Content-Length: ", "Transfer-Encoding: ", "chunked", "5", "0", "a", ";x", "\x00", "\xff", "Connection: close"
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.constantFrom("GET", "HEAD", "CONNECT"), fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 30 }), (ps, method, sizes) => {
        const { events } = run(cut(Buffer.from(ps.join(""), "latin1"), sizes), true, [method])
        expect(ended(events) || events.some((e) => e._tag === "Head" && e.upgrade)).toBe(true)
      }),
      { numRuns: 300, seed: 3 }
    )
  })

  it("arbitrary bytes after a valid prefix never throw and end in End or Error after EOF", () => {
    const prefix = fc.constantFrom(
      "HTTP/1.1 200 OK\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.0 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\r\n"
    )
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 120 }), fc.array(fc.integer({ min: 1, max: 25 }), { maxLength: 20 }), (pre, tail, sizes) => {
        const bytes = Buffer.concat([Buffer.from(pre, "latin1"), tail])
        const { events } = run(cut(bytes, sizes), true)
        expect(ended(events)).toBe(true)
        // the same bytes fed whole give the same event kinds
        const whole = run([Uint8Array.from(bytes)], true).events
        const kinds = (es: ReadonlyArray<ParserEvent>) =>
          es.filter((e) => e._tag !== "Data").map((e) => (e._tag === "Error" ? e.error._tag : e._tag))
        expect(kinds(events)).toEqual(kinds(whole))
      }),
      { numRuns: 300, seed: 5 }
    )
  })
})
