/**
 * Parser section: our sans-IO ResponseParser against Node's built-in llhttp (the binding behind
 * node:http, `process.binding("http_parser")`), in one run, on the same bytes.
 *
 * - (a) ~10k small keep-alive responses (~150 bytes, 5-8 headers, Content-Length body) in 64 KiB
 *   chunks: messages/s and MB/s;
 * - (b) one 64 MiB Content-Length body in 64 KiB chunks: MB/s;
 * - (c) one 64 MiB chunked body (16 KiB chunks) in 64 KiB pieces: MB/s.
 *
 * Each workload is warmed up, then repeated; the best and the median run are reported (higher is
 * better). Run directly with `npx tsx scripts/bench/parser.ts`.
 */
import { Buffer } from "node:buffer"
import { pathToFileURL } from "node:url"
import { lib } from "./lib.js"

const { ResponseParser } = lib.ResponseParser

export interface Row {
  readonly name: string
  readonly ours: number
  readonly llhttp: number
  readonly unit: string
}

const FEED = 64 * 1024

// ---------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------

const smallResponses = (count: number): { bytes: Buffer; count: number } => {
  const parts: Array<string> = []
  const types = ["application/json", "text/plain; charset=utf-8", "text/html"]
  for (let i = 0; i < count; i++) {
    const body = `{"id":${i}}`
    const extra = i % 4 // 5 to 8 header fields
    let head = `HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:${String(i % 60).padStart(2, "0")} GMT\r\n` +
      `Content-Type: ${types[i % 3]}\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n` +
      `Server: bench\r\n`
    for (let k = 0; k < extra; k++) head += `X-Extra-${k}: v${i}\r\n`
    parts.push(head + "\r\n" + body)
  }
  return { bytes: Buffer.from(parts.join(""), "latin1"), count }
}

const bigLength = (size: number): Buffer => {
  const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`, "latin1")
  const out = Buffer.alloc(head.length + size, 0x61)
  head.copy(out)
  return out
}

const bigChunked = (size: number, chunk: number): Buffer => {
  const head = Buffer.from("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n", "latin1")
  const parts: Array<Buffer> = [head]
  const data = Buffer.alloc(chunk, 0x62)
  const sizeLine = Buffer.from(`${chunk.toString(16)}\r\n`, "latin1")
  const crlf = Buffer.from("\r\n", "latin1")
  for (let n = 0; n < size; n += chunk) parts.push(sizeLine, data, crlf)
  parts.push(Buffer.from("0\r\n\r\n", "latin1"))
  return Buffer.concat(parts)
}

const pieces = (b: Buffer, n: number): Array<Buffer> => {
  const out: Array<Buffer> = []
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, Math.min(b.length, i + n)))
  return out
}

// ---------------------------------------------------------------------------------------------
// Runners: each returns [messages, body bytes] so both parsers can be checked against each other
// ---------------------------------------------------------------------------------------------

const runOurs = (chunks: ReadonlyArray<Buffer>, expected: number): [number, number] => {
  const p = new ResponseParser()
  for (let i = 0; i < expected; i++) p.expect("GET")
  let messages = 0
  let body = 0
  let headerFields = 0
  for (const c of chunks) {
    p.feed(c)
    for (;;) {
      const ev = p.next()
      if (ev._tag === "NeedData") break
      if (ev._tag === "Data") body += ev.bytes.length
      else if (ev._tag === "Head") headerFields += ev.headers.length
      else if (ev._tag === "End") messages++
      else throw new Error(`parse error: ${ev.error._tag}`)
    }
  }
  if (headerFields === 0) throw new Error("no headers")
  return [messages, body]
}

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void
  execute(b: Buffer): number | Error
  finish(): void
  close(): void
  [k: number]: unknown
}
interface LlhttpBinding {
  readonly HTTPParser: {
    new (): LlhttpParser
    readonly RESPONSE: number
    readonly kOnMessageBegin: number
    readonly kOnHeaders: number
    readonly kOnHeadersComplete: number
    readonly kOnBody: number
    readonly kOnMessageComplete: number
    readonly kOnExecute: number
  }
}

let binding: LlhttpBinding | undefined
const llhttp = (): LlhttpBinding => {
  if (binding === undefined) {
    const emit = process.emitWarning
    process.emitWarning = () => {} // silence DEP0111 for this one access
    try {
      binding = (process as unknown as { binding(name: string): LlhttpBinding }).binding("http_parser")
    } finally {
      process.emitWarning = emit
    }
  }
  return binding
}

const runLlhttp = (chunks: ReadonlyArray<Buffer>): [number, number] => {
  const { HTTPParser } = llhttp()
  const p = new HTTPParser()
  let messages = 0
  let body = 0
  let headerFields = 0
  // What node:http's parserOnHeadersComplete receives: version, raw header array, status, reason, ...
  p[HTTPParser.kOnMessageBegin] = () => {}
  p[HTTPParser.kOnHeaders] = (headers: Array<string>) => {
    headerFields += headers.length
  }
  p[HTTPParser.kOnHeadersComplete] = (
    _major: number, _minor: number, headers: Array<string> | undefined
  ) => {
    if (headers !== undefined) headerFields += headers.length
    return 0
  }
  p[HTTPParser.kOnBody] = (b: Buffer) => {
    body += b.length
  }
  p[HTTPParser.kOnMessageComplete] = () => {
    messages++
  }
  p[HTTPParser.kOnExecute] = () => {}
  p.initialize(HTTPParser.RESPONSE, {}, 0, 0)
  for (const c of chunks) {
    const r = p.execute(c)
    if (r instanceof Error) throw r
  }
  p.close()
  if (headerFields === 0) throw new Error("no headers")
  return [messages, body]
}

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

interface Timing {
  readonly best: number
  readonly median: number
}

/** Runs `f` `warmup` times, then `reps` times; returns the best and median durations in ms. */
const time = (f: () => unknown, warmup: number, reps: number): Timing => {
  for (let i = 0; i < warmup; i++) f()
  const ts: Array<number> = []
  for (let i = 0; i < reps; i++) {
    const t = performance.now()
    f()
    ts.push(performance.now() - t)
  }
  ts.sort((a, b) => a - b)
  return { best: ts[0]!, median: ts[Math.floor(ts.length / 2)]! }
}

/** Alternates the two parsers run by run so machine noise hits both alike. */
const compare = (ours: () => unknown, theirs: () => unknown, warmup: number, reps: number): [Timing, Timing] => {
  const a: Array<number> = []
  const b: Array<number> = []
  for (let i = 0; i < warmup; i++) {
    ours()
    theirs()
  }
  for (let i = 0; i < reps; i++) {
    a.push(time(ours, 0, 1).best)
    b.push(time(theirs, 0, 1).best)
  }
  const summary = (ts: Array<number>): Timing => {
    ts.sort((x, y) => x - y)
    return { best: ts[0]!, median: ts[Math.floor(ts.length / 2)]! }
  }
  return [summary(a), summary(b)]
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits))

export async function runParserBench(options: { quick?: boolean } = {}): Promise<Array<Row>> {
  const quick = options.quick ?? process.env["BENCH_QUICK"] === "1"
  const rows: Array<Row> = []
  const MB = 1024 * 1024

  // (a) small keep-alive responses
  {
    const { bytes, count } = smallResponses(10_000)
    const chunks = pieces(bytes, FEED)
    const [m1, b1] = runOurs(chunks, count)
    const [m2, b2] = runLlhttp(chunks)
    if (m1 !== count || m2 !== count || b1 !== b2) throw new Error(`mismatch: ${m1}/${m2} messages, ${b1}/${b2} bytes`)
    const [o, l] = compare(() => runOurs(chunks, count), () => runLlhttp(chunks), quick ? 10 : 30, quick ? 15 : 60)
    rows.push(
      { name: `${count} small responses (~${Math.round(bytes.length / count)} B), best`, ours: round(count / o.best * 1000), llhttp: round(count / l.best * 1000), unit: "msg/s" },
      { name: `${count} small responses, median`, ours: round(count / o.median * 1000), llhttp: round(count / l.median * 1000), unit: "msg/s" },
      { name: "small responses, median", ours: round(bytes.length / MB / o.median * 1000, 1), llhttp: round(bytes.length / MB / l.median * 1000, 1), unit: "MB/s" }
    )
    await new Promise((r) => setImmediate(r))
  }

  // (b) one 64 MiB Content-Length body
  {
    const size = 64 * MB
    const chunks = pieces(bigLength(size), FEED)
    const [, b1] = runOurs(chunks, 1)
    const [, b2] = runLlhttp(chunks)
    if (b1 !== size || b2 !== size) throw new Error("length body mismatch")
    const [o, l] = compare(() => runOurs(chunks, 1), () => runLlhttp(chunks), 2, quick ? 3 : 7)
    rows.push({ name: "64 MiB Content-Length body, 64 KiB reads (median)", ours: round(size / MB / o.median * 1000), llhttp: round(size / MB / l.median * 1000), unit: "MB/s" })
    await new Promise((r) => setImmediate(r))
  }

  // (c) one 64 MiB chunked body, 16 KiB chunks
  {
    const size = 64 * MB
    const chunks = pieces(bigChunked(size, 16 * 1024), FEED)
    const [, b1] = runOurs(chunks, 1)
    const [, b2] = runLlhttp(chunks)
    if (b1 !== size || b2 !== size) throw new Error("chunked body mismatch")
    const [o, l] = compare(() => runOurs(chunks, 1), () => runLlhttp(chunks), 2, quick ? 3 : 7)
    rows.push({ name: "64 MiB chunked body (16 KiB chunks), 64 KiB reads (median)", ours: round(size / MB / o.median * 1000), llhttp: round(size / MB / l.median * 1000), unit: "MB/s" })
  }
  return rows
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (isMain) {
  const rows = await runParserBench()
  const w = Math.max(...rows.map((r) => r.name.length))
  console.log(`${"case".padEnd(w)}  ${"ours".padStart(12)}  ${"llhttp".padStart(12)}  unit    ours/llhttp`)
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(w)}  ${String(r.ours).padStart(12)}  ${String(r.llhttp).padStart(12)}  ${r.unit.padEnd(6)}  ${(r.ours / r.llhttp).toFixed(2)}×`
    )
  }
}
