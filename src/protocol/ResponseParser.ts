/**
 * The sans-IO, incremental HTTP/1.1 response parser (h11 style: bytes in, events out).
 *
 * The connection `expect`s the method of each request it sent, `feed`s the bytes it reads and
 * pulls events with `next()` until `NeedData`. Nothing here does I/O, allocates from a
 * Content-Length, or throws on peer input: every refusal is an `Error` event carrying one of the
 * tagged errors of `Http1Error.ts`, and the parser stays in that error state.
 *
 * Layout of the work:
 * - buffers: fed chunks are kept by reference; the head is parsed in place, and only a head or
 *   trailer line that straddles two chunks is copied (into a growable "carry" buffer that holds
 *   exactly the unfinished line). Body bytes come out as subarrays of the fed buffers.
 * - head: the status line (`statusLine`) and the field lines (`fieldLine`, shared by trailers) are
 *   validated byte by byte with the lookup tables of `grammar.ts`; every limit is checked on the
 *   bytes that have arrived, so an endless line fails at the limit.
 * - framing (`finishHead`): RFC 9112 §6.3 in order (see docs/protocol-notes.md).
 * - chunked: a per-byte state machine for the size line and the CRLF after data (`chunkSizeLine`).
 *
 * Every check is a function of the bytes seen so far, evaluated in byte order, so the events (and
 * which error wins when a message breaks several rules) do not depend on how the bytes were split
 * into chunks. (The one exception is `BadStatusLine.line` on an early refusal, which is the part of
 * the line that had arrived.)
 * @since 0.1.0
 */
import { Buffer } from "node:buffer"
import {
  BadStatusLine,
  IncompleteRead,
  InvalidChunk,
  InvalidContentLength,
  InvalidHeader,
  LineTooLong,
  RemoteDisconnected,
  TooManyHeaders,
  UnknownProtocol,
  UnknownTransferEncoding
} from "../Http1Error.js"
import type {
  BodyFraming,
  DataEvent,
  EndEvent,
  ErrorEvent,
  HeadEvent,
  NeedDataEvent,
  ParseError,
  ParserEvent,
  ParserLimits
} from "./events.js"
import { defaultLimits } from "./events.js"
import { FIELD_VALUE_CHAR, HEX_VALUE, TCHAR } from "./grammar.js"

/** `Buffer#latin1Slice` exists at runtime (it is what `toString("latin1")` calls) but is not typed. */
interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string
}

const EMPTY: FastBuffer = Buffer.alloc(0) as FastBuffer
const NEED_DATA: NeedDataEvent = Object.freeze({ _tag: "NeedData" as const })
const MAX_SAFE = Number.MAX_SAFE_INTEGER

// Phases of the machine.
const P_STATUS = 0 // waiting for / reading a status line (blank lines before it are skipped)
const P_HEADERS = 1 // reading field lines
const P_END = 2 // the head said "no (more) body": the next event is End
const P_LENGTH = 3 // Content-Length body
const P_CLOSE = 4 // read-until-close body
const P_CHUNK_SIZE = 5 // chunk-size line (per-byte sub-state `sz`)
const P_CHUNK_DATA = 6
const P_CHUNK_CR = 7 // the CR after chunk data
const P_CHUNK_LF = 8 // the LF after chunk data
const P_TRAILERS = 9
const P_UPGRADED = 10
const P_ERROR = 11

// Sub-states of the chunk-size line: 1*HEXDIG [ BWS ] [ ";" ext ] CRLF
const SZ_FIRST = 0
const SZ_DIGITS = 1
const SZ_WS = 2
const SZ_EXT = 3
const SZ_LF = 4

// Results of the line readers.
const R_LINE = 0 // a line was consumed, go on
const R_NEED = 1 // the line is not complete in the front buffer
const R_DONE = 2 // the blank line that ends a head / trailer section was consumed
const R_ERROR = 3 // `this.error` is set

/** Bytes decoded at once for head strings (see `str`). */
const WINDOW = 4096

const CC_HTTP = [0x48, 0x54, 0x54, 0x50, 0x2f] // "HTTP/"

const emptyPartial = () => new Uint8Array(0)

/**
 * The incremental response parser. One per connection; `reset()` makes it reusable.
 *
 * @example
 * ```ts
 * const p = new ResponseParser()
 * p.expect("GET")
 * p.feed(bytes)
 * for (let ev = p.next(); ev._tag !== "NeedData"; ev = p.next()) { ... }
 * ```
 */
export class ResponseParser {
  private readonly lim: ParserLimits

  // --- buffers -------------------------------------------------------------------------------
  /** The chunk being read; `pos`..`frontEnd` are its unconsumed bytes. */
  private front: FastBuffer = EMPTY
  private pos = 0
  private frontEnd = 0
  /** Chunks fed after `front`, read from index `qh`. */
  private queue: Array<FastBuffer | undefined> = []
  private qh = 0
  private qBytes = 0
  private eofSeen = false

  // --- requests ------------------------------------------------------------------------------
  private methods: Array<string> = []
  private mh = 0

  // --- message state -------------------------------------------------------------------------
  private phase = P_STATUS
  private errorEvent: ErrorEvent | undefined = undefined
  private headBytes = 0
  private interimCount = 0
  private status = 0
  private version: 10 | 11 = 11
  private reason = ""
  private fields: Array<string> = []
  private trailers: Array<string> = []
  private remaining = 0
  private upgradeAfterEnd = false
  /** Resume point of an incomplete head line (offsets from the line start; -1 or 0: start over). */
  private lnOff = -1
  private lnStage = 0
  private lnNameEnd = 0
  private lnVs = 0
  private sz = SZ_FIRST
  private szLine = 0
  private szExt = 0

  constructor(limits?: Partial<ParserLimits>) {
    this.lim = limits === undefined ? defaultLimits : { ...defaultLimits, ...limits }
  }

  /** Queue the method of a request whose response will follow (FIFO: pipelined requests queue several). */
  expect(method: string): void {
    this.methods.push(method)
  }

  /** Hand over bytes read from the peer. The parser keeps a reference: do not reuse the buffer. */
  feed(bytes: Uint8Array): void {
    const n = bytes.length
    if (n === 0) return
    const buf = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, n)) as FastBuffer
    if (this.pos >= this.frontEnd && this.qh >= this.queue.length) {
      this.front = buf
      this.pos = 0
      this.frontEnd = n
      this.queue.length = 0
      this.qh = 0
    } else {
      this.queue.push(buf)
      this.qBytes += n
    }
  }

  /** The peer closed its side: no more bytes will come. */
  feedEof(): void {
    this.eofSeen = true
  }

  /** Whether `feedEof` was called. */
  get eof(): boolean {
    return this.eofSeen
  }

  /** Bytes fed and not consumed yet. On an idle keep-alive connection, anything here is unsolicited. */
  get bufferedLength(): number {
    return this.frontEnd - this.pos + this.qBytes
  }

  /**
   * `idle`: between responses (nothing of the next one consumed yet); `head`: inside a head (or
   * between an interim response and the final one); `body`: after a final head, until End;
   * `error`: stuck on an error; `upgraded`: the connection stopped speaking HTTP/1.
   */
  get state(): "idle" | "head" | "body" | "error" | "upgraded" {
    switch (this.phase) {
      case P_STATUS:
        return this.headBytes === 0 && this.interimCount === 0 ? "idle" : "head"
      case P_HEADERS:
        return "head"
      case P_ERROR:
        return "error"
      case P_UPGRADED:
        return "upgraded"
      default:
        return "body"
    }
  }

  /** Removes and returns every byte fed and not consumed (after an upgrade: the new protocol's bytes). */
  takeBuffered(): Uint8Array {
    const parts: Array<Uint8Array> = []
    if (this.frontEnd > this.pos) parts.push(this.front.subarray(this.pos, this.frontEnd))
    for (let i = this.qh; i < this.queue.length; i++) parts.push(this.queue[i]!)
    this.front = EMPTY
    this.winBuf = EMPTY
    this.win = ""
    this.pos = 0
    this.frontEnd = 0
    this.queue = []
    this.qh = 0
    this.qBytes = 0
    if (parts.length === 0) return new Uint8Array(0)
    if (parts.length === 1) return parts[0]!
    return Buffer.concat(parts)
  }

  /** Forget everything: buffers, queued methods, the error, EOF. */
  reset(): void {
    this.takeBuffered()
    this.eofSeen = false
    this.methods = []
    this.mh = 0
    this.phase = P_STATUS
    this.errorEvent = undefined
    this.startMessage()
    this.interimCount = 0
  }

  /** Pull the next event. `NeedData` when more bytes (or `feedEof`) are needed, or no response is expected. */
  next(): ParserEvent {
    for (;;) {
      switch (this.phase) {
        case P_STATUS:
        case P_HEADERS: {
          if (this.mh >= this.methods.length) return NEED_DATA
          const ev = this.readHead()
          if (ev !== undefined) return ev
          continue
        }
        case P_END:
          return this.end([])
        case P_LENGTH: {
          if (this.pos >= this.frontEnd && !this.advance()) {
            return this.eofSeen ? this.fail(new IncompleteRead({ partial: emptyPartial(), expected: this.remaining })) : NEED_DATA
          }
          const avail = this.frontEnd - this.pos
          const n = avail < this.remaining ? avail : this.remaining
          const bytes = this.front.subarray(this.pos, this.pos + n)
          this.pos += n
          this.remaining -= n
          if (this.remaining === 0) this.phase = P_END
          return { _tag: "Data", bytes } satisfies DataEvent
        }
        case P_CLOSE: {
          if (this.pos >= this.frontEnd && !this.advance()) {
            return this.eofSeen ? this.end([]) : NEED_DATA
          }
          const bytes = this.front.subarray(this.pos, this.frontEnd)
          this.pos = this.frontEnd
          return { _tag: "Data", bytes } satisfies DataEvent
        }
        case P_CHUNK_DATA: {
          if (this.pos >= this.frontEnd && !this.advance()) {
            return this.eofSeen ? this.fail(new IncompleteRead({ partial: emptyPartial(), expected: this.remaining })) : NEED_DATA
          }
          const avail = this.frontEnd - this.pos
          const n = avail < this.remaining ? avail : this.remaining
          const bytes = this.front.subarray(this.pos, this.pos + n)
          this.pos += n
          this.remaining -= n
          if (this.remaining === 0) this.phase = P_CHUNK_CR
          return { _tag: "Data", bytes } satisfies DataEvent
        }
        case P_CHUNK_SIZE:
        case P_CHUNK_CR:
        case P_CHUNK_LF: {
          if (this.pos >= this.frontEnd && !this.advance()) {
            return this.eofSeen ? this.fail(new IncompleteRead({ partial: emptyPartial(), expected: undefined })) : NEED_DATA
          }
          const ev = this.chunkFraming()
          if (ev !== undefined) return ev
          continue
        }
        case P_TRAILERS: {
          const ev = this.readTrailers()
          if (ev !== undefined) return ev
          continue
        }
        case P_UPGRADED:
          return NEED_DATA
        default:
          return this.errorEvent!
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Buffers
  // ---------------------------------------------------------------------------------------------

  /** Move to the next queued chunk when the front one is used up. False when nothing is queued. */
  private advance(): boolean {
    while (this.qh < this.queue.length) {
      const next = this.queue[this.qh]!
      this.queue[this.qh] = undefined
      this.qh++
      this.qBytes -= next.length
      if (this.qh === this.queue.length) {
        this.queue.length = 0
        this.qh = 0
      }
      this.front = next
      this.pos = 0
      this.frontEnd = next.length
      if (next.length > 0) return true
    }
    return false
  }

  /**
   * The front buffer ends inside a line: append the next queued chunk up to its first LF (or all of
   * it) to a carry buffer holding the unfinished line. Only that line is copied; the rest of the
   * chunk stays queued by reference. False when nothing is queued.
   */
  private pull(): boolean {
    if (this.qh >= this.queue.length) return false
    const next = this.queue[this.qh]!
    const lf = next.indexOf(10)
    const take = lf === -1 ? next.length : lf + 1
    const tail = this.frontEnd - this.pos
    const need = tail + take
    let carry = this.front
    if (this.front === this.carry && this.frontEnd + take <= carry.length) {
      next.copy(carry, this.frontEnd, 0, take)
      this.frontEnd += take
    } else {
      carry = Buffer.alloc(Math.max(256, need * 2)) as FastBuffer
      this.front.copy(carry, 0, this.pos, this.frontEnd)
      next.copy(carry, tail, 0, take)
      this.carry = carry
      this.front = carry
      this.pos = 0
      this.frontEnd = need
    }
    if (take === next.length) {
      this.queue[this.qh] = undefined
      this.qh++
      if (this.qh === this.queue.length) {
        this.queue.length = 0
        this.qh = 0
      }
    } else {
      this.queue[this.qh] = next.subarray(take) as FastBuffer
    }
    this.qBytes -= take
    return true
  }
  private carry: FastBuffer = EMPTY

  /**
   * Head strings come from one decoded window of the front buffer: a native `latin1Slice` per
   * field name and value costs more than parsing the field, `String#slice` on a decoded window
   * does not cross into C++. The window is decoded again when a string falls outside it.
   */
  private win = ""
  private winBuf: FastBuffer = EMPTY
  private winStart = 0
  private winEnd = 0

  private str(buf: FastBuffer, a: number, b: number): string {
    if (buf !== this.winBuf || a < this.winStart || b > this.winEnd) {
      if (b - a > WINDOW) return buf.latin1Slice(a, b)
      const end = this.frontEnd - a > WINDOW ? a + WINDOW : this.frontEnd
      if (buf !== this.front || end < b) return buf.latin1Slice(a, b)
      this.win = buf.latin1Slice(a, end)
      this.winBuf = buf
      this.winStart = a
      this.winEnd = end
    }
    return this.win.slice(a - this.winStart, b - this.winStart)
  }

  // ---------------------------------------------------------------------------------------------
  // Events
  // ---------------------------------------------------------------------------------------------

  private fail(error: ParseError): ErrorEvent {
    const ev: ErrorEvent = { _tag: "Error", error }
    this.errorEvent = ev
    this.phase = P_ERROR
    return ev
  }

  private end(trailers: Array<string>): EndEvent {
    this.mh++
    if (this.mh === this.methods.length) {
      this.methods.length = 0
      this.mh = 0
    }
    this.phase = this.upgradeAfterEnd ? P_UPGRADED : P_STATUS
    this.interimCount = 0
    this.startMessage()
    return { _tag: "End", trailers }
  }

  private startMessage(): void {
    this.lnOff = -1
    this.headBytes = 0
    this.upgradeAfterEnd = false
    this.fields = []
    this.trailers = []
    this.remaining = 0
  }

  // ---------------------------------------------------------------------------------------------
  // Head
  // ---------------------------------------------------------------------------------------------

  /** Reads head lines until the head is complete (returns Head), more bytes are needed, or an error. */
  private readHead(): ParserEvent | undefined {
    for (;;) {
      if (this.pos >= this.frontEnd && !this.advance()) return this.headEof()
      const r = this.phase === P_STATUS ? this.statusLine() : this.fieldLine(false)
      if (r === R_LINE) continue
      if (r === R_DONE) return this.finishHead()
      if (r === R_ERROR) return this.errorEvent!
      // R_NEED
      if (!this.pull()) return this.headEof()
    }
  }

  private headEof(): ParserEvent {
    if (!this.eofSeen) return NEED_DATA
    if (this.phase === P_STATUS) {
      const avail = this.frontEnd - this.pos
      if (avail === 0) return this.fail(new RemoteDisconnected({}))
      return this.fail(new BadStatusLine({ line: this.front.latin1Slice(this.pos, this.frontEnd) }))
    }
    return this.fail(new IncompleteRead({ partial: emptyPartial(), expected: undefined }))
  }

  /** The part of the current line that has arrived (for an early BadStatusLine). */
  private partialLine(start: number, end: number): string {
    let e = end
    for (let i = start; i < end; i++) {
      if (this.front[i] === 10) {
        e = i
        break
      }
    }
    if (e > start && this.front[e - 1] === 13) e--
    if (e - start > this.lim.maxLineSize) e = start + this.lim.maxLineSize
    return this.front.latin1Slice(start, e)
  }

  private badStatus(line: string): number {
    this.fail(new BadStatusLine({ line }))
    return R_ERROR
  }

  /** `HTTP-version SP 3DIGIT [ SP reason-phrase ]`, after skipping blank lines. */
  private statusLine(): number {
    const buf = this.front
    const start = this.pos
    const end = this.frontEnd
    const c0 = buf[start]!
    if (c0 === 10 || c0 === 13) {
      // a blank line before the status line (CRLF or LF) is skipped; a bare CR is not a blank line
      let next = start + 1
      if (c0 === 13) {
        if (next >= end) return R_NEED
        if (buf[next] !== 10) return this.badStatus(this.partialLine(start, end))
        next++
      }
      this.headBytes += next - start
      this.pos = next
      if (this.headBytes > this.lim.maxHeadSize) return this.lineTooLong("head", this.lim.maxHeadSize)
      return R_LINE
    }
    // Anything that cannot start "HTTP/" is refused at once (a TLS record on a plain port, ...).
    const n = end - start < 5 ? end - start : 5
    for (let k = 0; k < n; k++) {
      if (buf[start + k] !== CC_HTTP[k]) return this.badStatus(this.partialLine(start, end))
    }
    const max = this.lim.maxLineSize
    // resume the LF search where the last call stopped (a line may arrive byte by byte)
    const from = this.lnOff > 0 ? start + this.lnOff - 1 : start
    this.lnOff = -1
    let lf = buf.indexOf(10, from)
    if (lf >= end) lf = -1
    if (lf === -1) {
      if (end - start >= max + 2) return this.lineTooLong("status line", max)
      this.lnOff = end - start
      return R_NEED
    }
    let ce = lf
    if (buf[ce - 1] === 13) ce--
    if (ce - start > max) return this.lineTooLong("status line", max)
    this.headBytes += lf + 1 - start
    if (this.headBytes > this.lim.maxHeadSize) return this.lineTooLong("head", this.lim.maxHeadSize)
    this.pos = lf + 1

    // HTTP-version: visible characters up to the first SP
    let i = start + 5
    while (i < ce) {
      const c = buf[i]!
      if (c <= 0x20 || c >= 0x7f) break
      i++
    }
    if (i >= ce || buf[i] !== 0x20) return this.badStatus(buf.latin1Slice(start, ce))
    let version: 10 | 11
    if (i - start === 8 && buf[start + 5] === 0x31 && buf[start + 6] === 0x2e && buf[start + 7] === 0x31) {
      version = 11 // the common case, without making a string
    } else {
      const v = buf.latin1Slice(start, i)
      if (v === "HTTP/1.0" || v === "HTTP/0.9") version = 10
      else if (v.startsWith("HTTP/1.")) version = 11
      else {
        this.fail(new UnknownProtocol({ version: v }))
        return R_ERROR
      }
    }
    // 3DIGIT, then SP or the end of the line
    const d0 = buf[i + 1]! - 0x30
    const d1 = buf[i + 2]! - 0x30
    const d2 = buf[i + 3]! - 0x30
    if (
      i + 4 > ce || d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 ||
      (i + 4 < ce && buf[i + 4] !== 0x20)
    ) {
      return this.badStatus(buf.latin1Slice(start, ce))
    }
    // reason-phrase: *( HTAB / SP / VCHAR / obs-text ), surrounding whitespace trimmed (as Python)
    let rs = i + 5
    let re = ce
    for (let k = rs; k < re; k++) {
      if (FIELD_VALUE_CHAR[buf[k]!] === 0) return this.badStatus(buf.latin1Slice(start, ce))
    }
    while (rs < re && (buf[rs] === 0x20 || buf[rs] === 0x09)) rs++
    while (re > rs && (buf[re - 1] === 0x20 || buf[re - 1] === 0x09)) re--
    this.status = d0 * 100 + d1 * 10 + d2
    this.version = version
    this.reason = rs < re ? this.str(buf, rs, re) : ""
    this.fields = []
    this.phase = P_HEADERS
    return R_LINE
  }

  private lineTooLong(what: "status line" | "header line" | "head" | "trailer line", limit: number): number {
    this.fail(new LineTooLong({ what, limit }))
    return R_ERROR
  }

  private invalidHeader(name: string, value: string | undefined, reason: string): number {
    this.fail(new InvalidHeader({ side: "response", header: name, value, reason }))
    return R_ERROR
  }

  /**
   * One field line of a head or a trailer section: `field-name ":" OWS field-value OWS`, an
   * obs-fold continuation, or the blank line that ends the section. CRLF or a bare LF end a line
   * (RFC 9112 §2.2) — in trailers too, so both sections follow one rule; a bare CR is refused.
   */
  private fieldLine(trailer: boolean): number {
    const buf = this.front
    const start = this.pos
    const end = this.frontEnd
    const max = this.lim.maxLineSize
    const fields = trailer ? this.trailers : this.fields
    let c = buf[start]!
    if (c === 10 || c === 13) {
      let next = start + 1
      if (c === 13) {
        if (next >= end) return R_NEED
        if (buf[next] !== 10) return this.invalidHeader("", undefined, "bare CR")
        next++
      }
      this.pos = next
      if (!trailer) {
        this.headBytes += next - start
        if (this.headBytes > this.lim.maxHeadSize) return this.lineTooLong("head", this.lim.maxHeadSize)
      }
      return R_DONE
    }
    const stop = end - start < max ? end : start + max
    const fold = c === 0x20 || c === 0x09
    // A line may arrive in many pieces: resume the scan where the last call stopped (stage 0: name,
    // 1: whitespace before the value, 2: value), so a long line costs O(length), not O(length²).
    let i: number
    let nameEnd: number
    let vs: number
    let stage: number
    if (this.lnOff > 0) {
      i = start + this.lnOff
      nameEnd = start + this.lnNameEnd
      vs = start + this.lnVs
      stage = this.lnStage
      this.lnOff = -1
    } else {
      if (fold && fields.length === 0) return this.invalidHeader("", undefined, "obs-fold line before the first field")
      i = start
      nameEnd = start
      vs = start
      stage = fold ? 1 : 0
    }
    if (stage === 0) {
      while (i < stop && TCHAR[buf[i]!] === 1) i++
      if (i < stop) {
        c = buf[i]!
        if (c !== 0x3a) {
          const name = buf.latin1Slice(start, i)
          if (c === 0x20 || c === 0x09) return this.invalidHeader(name, undefined, "whitespace before the colon")
          if (c === 10 || c === 13) return this.invalidHeader(name, undefined, "field line without a colon")
          return this.invalidHeader(buf.latin1Slice(start, i + 1), undefined, "invalid character in the field name")
        }
        if (i === start) return this.invalidHeader("", undefined, "empty field name")
        nameEnd = i
        i++
        stage = 1
      }
    }
    if (stage === 1) {
      while (i < stop && ((c = buf[i]!) === 0x20 || c === 0x09)) i++
      vs = i
      if (i < stop) stage = 2
    }
    if (stage === 2) {
      while (i < stop && FIELD_VALUE_CHAR[buf[i]!] === 1) i++
    }
    // i: the first byte that is not part of the value, or `stop`
    let lineEnd: number // end of the content (before CRLF / LF)
    let next: number
    if (i === end) return this.suspendLine(start, i, stage, nameEnd, vs)
    c = buf[i]!
    if (c === 10) {
      lineEnd = i
      next = i + 1
    } else if (c === 13) {
      if (i + 1 >= end) return this.suspendLine(start, i, stage, nameEnd, vs)
      if (buf[i + 1] !== 10) {
        if (i === stop) return this.lineTooLong(trailer ? "trailer line" : "header line", max)
        return this.invalidHeader(buf.latin1Slice(start, nameEnd), undefined, "bare CR")
      }
      lineEnd = i
      next = i + 2
    } else if (i === stop) {
      return this.lineTooLong(trailer ? "trailer line" : "header line", max)
    } else if (!fold && nameEnd === start) {
      // still inside the name when the line limit ... cannot happen: i < stop means a non-tchar was seen
      return this.invalidHeader(buf.latin1Slice(start, i), undefined, "invalid character")
    } else {
      return this.invalidHeader(buf.latin1Slice(start, nameEnd), buf.latin1Slice(vs, i + 1), "invalid character in the field value")
    }
    if (!fold && nameEnd === start) {
      // the line ended (at the limit) before a colon
      return this.invalidHeader(buf.latin1Slice(start, lineEnd), undefined, "field line without a colon")
    }
    let ve = lineEnd
    while (ve > vs && ((c = buf[ve - 1]!) === 0x20 || c === 0x09)) ve--
    const value = ve > vs ? this.str(buf, vs, ve) : ""
    this.pos = next
    if (!trailer) {
      this.headBytes += next - start
      if (this.headBytes > this.lim.maxHeadSize) return this.lineTooLong("head", this.lim.maxHeadSize)
    }
    const n = fields.length
    if (fold) {
      const prev = fields[n - 1]!
      if (value !== "") fields[n - 1] = prev === "" ? value : prev + " " + value
      return R_LINE
    }
    if (n >= (trailer ? this.lim.maxTrailers : this.lim.maxHeaders) * 2) {
      this.fail(
        new TooManyHeaders(
          trailer ? { what: "trailers", limit: this.lim.maxTrailers } : { what: "headers", limit: this.lim.maxHeaders }
        )
      )
      return R_ERROR
    }
    fields.push(this.str(buf, start, nameEnd), value)
    return R_LINE
  }

  /** Remember how far the current (incomplete) line was scanned. */
  private suspendLine(start: number, i: number, stage: number, nameEnd: number, vs: number): number {
    this.lnOff = i - start
    this.lnStage = stage
    this.lnNameEnd = nameEnd - start
    this.lnVs = vs - start
    return R_NEED
  }

  // ---------------------------------------------------------------------------------------------
  // Framing (RFC 9112 §6.3)
  // ---------------------------------------------------------------------------------------------

  private finishHead(): ParserEvent {
    const fields = this.fields
    const status = this.status
    const version = this.version
    let cl = -1
    let clRaw: string | undefined
    let te: string | undefined
    let close = false
    let keepAliveToken = false
    for (let k = 0; k < fields.length; k += 2) {
      const name = fields[k]!
      const len = name.length
      if (len === 14) {
        if (!sameLower(name, "content-length")) continue
        const value = fields[k + 1]!
        const n = parseContentLength(value)
        if (n < 0 || (cl !== -1 && n !== cl)) {
          return this.fail(
            new InvalidContentLength({
              value: clRaw === undefined || n < 0 ? value : `${clRaw}, ${value}`,
              reason: n < 0 ? "not a single value of plain digits" : "conflicting values"
            })
          )
        }
        cl = n
        clRaw = value
      } else if (len === 17) {
        if (!sameLower(name, "transfer-encoding")) continue
        const value = fields[k + 1]!
        te = te === undefined ? value : `${te}, ${value}`
      } else if (len === 10) {
        if (sameLower(name, "connection")) {
          const flags = connectionTokens(fields[k + 1]!)
          if ((flags & 1) !== 0) close = true
          if ((flags & 2) !== 0) keepAliveToken = true
        } else if (sameLower(name, "keep-alive")) {
          // Python's _check_close: on HTTP/1.0 a Keep-Alive header alone keeps the connection.
          keepAliveToken = true
        }
      }
    }
    if (te !== undefined && clRaw !== undefined) {
      return this.fail(new InvalidContentLength({ value: clRaw, reason: "Content-Length together with Transfer-Encoding" }))
    }
    let keepAlive = !close && (version === 11 || keepAliveToken)
    const method = this.methods[this.mh]!

    if (status < 200 && status !== 101) {
      // interim response: another head follows for the same request
      if (++this.interimCount > this.lim.maxInterimResponses) {
        return this.fail(new TooManyHeaders({ what: "interim responses", limit: this.lim.maxInterimResponses }))
      }
      const ev = this.headEvent(true, "none", undefined, keepAlive, false)
      this.headBytes = 0
      this.fields = []
      this.phase = P_STATUS
      return ev
    }
    if (status === 101 || (method === "CONNECT" && status < 300)) {
      this.upgradeAfterEnd = true
      this.phase = P_END
      return this.headEvent(false, "none", undefined, false, true)
    }
    if (method === "HEAD" || status === 204 || status === 304) {
      this.phase = P_END
      return this.headEvent(false, "none", undefined, keepAlive, false)
    }
    if (te !== undefined) {
      if (!isExactlyChunked(te)) return this.fail(new UnknownTransferEncoding({ value: te }))
      if (version === 10) keepAlive = false
      this.phase = P_CHUNK_SIZE
      this.sz = SZ_FIRST
      this.szLine = 0
      this.szExt = 0
      return this.headEvent(false, "chunked", undefined, keepAlive, false)
    }
    if (cl !== -1) {
      this.remaining = cl
      this.phase = cl === 0 ? P_END : P_LENGTH
      return this.headEvent(false, "length", cl, keepAlive, false)
    }
    this.phase = P_CLOSE
    return this.headEvent(false, "close", undefined, false, false)
  }

  private headEvent(
    interim: boolean,
    framing: BodyFraming,
    contentLength: number | undefined,
    keepAlive: boolean,
    upgrade: boolean
  ): HeadEvent {
    return {
      _tag: "Head",
      status: this.status,
      reason: this.reason,
      version: this.version,
      headers: this.fields,
      interim,
      framing,
      contentLength,
      keepAlive,
      upgrade
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Chunked
  // ---------------------------------------------------------------------------------------------

  private invalidChunk(reason: string, c: number): ErrorEvent {
    return this.fail(new InvalidChunk({ reason, seen: String.fromCharCode(c) }))
  }

  /**
   * The chunk-size line and the CRLF after chunk data, byte by byte:
   * `1*HEXDIG [ BWS ] [ ";" chunk-ext ] CRLF` with the size bounded by 2^53 - 1, extensions skipped
   * (within `maxChunkExtensionSize`), and CRLF — never a bare LF — ending the line. Returns an event
   * (Error, or End after an empty trailer section is read elsewhere) or undefined to go on.
   */
  private chunkFraming(): ParserEvent | undefined {
    const buf = this.front
    let i = this.pos
    const end = this.frontEnd
    if (this.phase === P_CHUNK_CR) {
      const c = buf[i]!
      if (c !== 13) return this.invalidChunk("chunk data not followed by CRLF", c)
      this.pos = i + 1
      this.phase = P_CHUNK_LF
      return undefined
    }
    if (this.phase === P_CHUNK_LF) {
      const c = buf[i]!
      if (c !== 10) return this.invalidChunk("chunk data not followed by CRLF", c)
      this.pos = i + 1
      this.phase = P_CHUNK_SIZE
      this.sz = SZ_FIRST
      this.szLine = 0
      this.szExt = 0
      this.remaining = 0
      return undefined
    }
    const maxLine = this.lim.maxLineSize
    const maxExt = this.lim.maxChunkExtensionSize
    let sz = this.sz
    let size = this.remaining
    let line = this.szLine
    for (; i < end; i++) {
      const c = buf[i]!
      if (sz === SZ_LF) {
        if (c !== 10) return this.invalidChunk("CR not followed by LF in the chunk size line", c)
        this.pos = i + 1
        if (size === 0) {
          this.phase = P_TRAILERS
          this.trailers = []
        } else {
          this.phase = P_CHUNK_DATA
          this.remaining = size
        }
        return undefined
      }
      if (c === 13) {
        if (sz === SZ_FIRST) return this.invalidChunk("empty chunk size", c)
        sz = SZ_LF
        continue
      }
      if (++line > maxLine) {
        this.pos = i
        this.fail(new LineTooLong({ what: "chunk size line", limit: maxLine }))
        return this.errorEvent
      }
      if (sz === SZ_FIRST || sz === SZ_DIGITS) {
        const d = HEX_VALUE[c]!
        if (d !== 0xff) {
          size = size * 16 + d
          if (size > MAX_SAFE) return this.invalidChunk("chunk size over 2^53 - 1", c)
          sz = SZ_DIGITS
          continue
        }
        if (sz === SZ_FIRST) return this.invalidChunk("chunk size is not hexadecimal", c)
      }
      if (sz !== SZ_EXT) {
        if (c === 0x20 || c === 0x09) {
          sz = SZ_WS
          continue
        }
        if (c === 0x3b) {
          // the extension bytes are counted from the ";"
          sz = SZ_EXT
          if (++this.szExt > maxExt) {
            this.fail(new LineTooLong({ what: "chunk size line", limit: maxExt }))
            return this.errorEvent
          }
          continue
        }
        if (c === 10) return this.invalidChunk("bare LF in the chunk size line", c)
        return this.invalidChunk("invalid character in the chunk size line", c)
      }
      // chunk-ext: anything but control characters (HTAB allowed); the length is bounded
      if (c === 10) return this.invalidChunk("bare LF in the chunk size line", c)
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return this.invalidChunk("control character in a chunk extension", c)
      if (++this.szExt > maxExt) {
        this.fail(new LineTooLong({ what: "chunk size line", limit: maxExt }))
        return this.errorEvent
      }
    }
    this.pos = i
    this.sz = sz
    this.remaining = size
    this.szLine = line
    return undefined
  }

  private readTrailers(): ParserEvent | undefined {
    for (;;) {
      if (this.pos >= this.frontEnd && !this.advance()) return this.trailerEof()
      const r = this.fieldLine(true)
      if (r === R_LINE) continue
      if (r === R_DONE) return this.end(this.trailers)
      if (r === R_ERROR) return this.errorEvent!
      if (!this.pull()) return this.trailerEof()
    }
  }

  private trailerEof(): ParserEvent {
    return this.eofSeen ? this.fail(new IncompleteRead({ partial: emptyPartial(), expected: undefined })) : NEED_DATA
  }
}

// -----------------------------------------------------------------------------------------------
// Field value helpers
// -----------------------------------------------------------------------------------------------

/** `name` equals the lower-case ASCII `lower`, ignoring case (names are tokens, so `| 0x20` is safe). */
const sameLower = (name: string, lower: string): boolean => {
  for (let i = 0; i < lower.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false
  }
  return true
}

/**
 * Content-Length: `1*DIGIT` or a list of identical such values (`5, 5`), at most 2^53 - 1.
 * Returns the value, or -1 for anything else (empty, signs, inner spaces, conflicting members).
 */
const parseContentLength = (v: string): number => {
  let result = -1
  let i = 0
  const n = v.length
  for (;;) {
    while (i < n && (v.charCodeAt(i) === 0x20 || v.charCodeAt(i) === 0x09)) i++
    const s = i
    let x = 0
    while (i < n) {
      const d = v.charCodeAt(i) - 0x30
      if (d < 0 || d > 9) break
      x = x * 10 + d
      if (x > MAX_SAFE) return -1
      i++
    }
    if (i === s) return -1
    if (result !== -1 && x !== result) return -1
    result = x
    while (i < n && (v.charCodeAt(i) === 0x20 || v.charCodeAt(i) === 0x09)) i++
    if (i === n) return result
    if (v.charCodeAt(i) !== 0x2c) return -1
    i++
  }
}

/** Bit 1: the `close` token; bit 2: `keep-alive` (case-insensitive token list). */
const connectionTokens = (v: string): number => {
  let flags = 0
  let i = 0
  const n = v.length
  while (i <= n) {
    let j = v.indexOf(",", i)
    if (j === -1) j = n
    let s = i
    let e = j
    while (s < e && (v.charCodeAt(s) === 0x20 || v.charCodeAt(s) === 0x09)) s++
    while (e > s && (v.charCodeAt(e - 1) === 0x20 || v.charCodeAt(e - 1) === 0x09)) e--
    if (e - s === 5 && sameLowerAt(v, s, "close")) flags |= 1
    else if (e - s === 10 && sameLowerAt(v, s, "keep-alive")) flags |= 2
    i = j + 1
  }
  return flags
}

/** `v` at `at` equals the lower-case ASCII `lower`, ignoring ASCII case. */
const sameLowerAt = (v: string, at: number, lower: string): boolean => {
  for (let i = 0; i < lower.length; i++) {
    let c = v.charCodeAt(at + i)
    if (c >= 0x41 && c <= 0x5a) c |= 0x20
    if (c !== lower.charCodeAt(i)) return false
  }
  return true
}

/** The combined Transfer-Encoding is exactly one `chunked` (case-insensitive, surrounding OWS ignored). */
const isExactlyChunked = (te: string): boolean => {
  let s = 0
  let e = te.length
  while (s < e && (te.charCodeAt(s) === 0x20 || te.charCodeAt(s) === 0x09)) s++
  while (e > s && (te.charCodeAt(e - 1) === 0x20 || te.charCodeAt(e - 1) === 0x09)) e--
  return e - s === 7 && te.slice(s, e).toLowerCase() === "chunked"
}

/**
 * Parses a whole response (for tests and tools): feeds all bytes, then EOF, and collects the events
 * up to the first End or Error (interim heads included).
 */
export const parseResponse = (
  bytes: Uint8Array | string,
  method = "GET",
  limits?: Partial<ParserLimits>
): Array<ParserEvent> => {
  const p = new ResponseParser(limits)
  p.expect(method)
  p.feed(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes)
  p.feedEof()
  const out: Array<ParserEvent> = []
  for (;;) {
    const ev = p.next()
    if (ev._tag === "NeedData") return out
    out.push(ev)
    if (ev._tag === "End" || ev._tag === "Error") return out
  }
}
