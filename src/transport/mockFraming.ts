/**
 * Finds where requests end in the bytes a client writes, for the mock transport: the head up to
 * CRLFCRLF, then a chunked body (up to the last chunk, trailers and the final CRLF) or a
 * Content-Length body; no body otherwise. Pure and incremental: bytes may arrive split anywhere.
 *
 * It is deliberately lenient (it frames what our encoder writes; it does not validate requests).
 * @since 0.1.0
 */
import { concatBytes } from "../internal/bytes.js"

/**
 * What {@link RequestFramer.push} found.
 * @since 0.1.0
 */
export type FramingEvent =
  /** A request head is complete (`head` holds its bytes, up to and including CRLFCRLF). */
  | { readonly _tag: "Head"; readonly head: Uint8Array; readonly expectContinue: boolean }
  /** A whole request is complete: head and body bytes. */
  | { readonly _tag: "Request"; readonly bytes: Uint8Array }

type State =
  | { readonly _tag: "Head" }
  | { readonly _tag: "Length"; remaining: number }
  | { readonly _tag: "ChunkSize" }
  | { readonly _tag: "ChunkData"; remaining: number }
  | { readonly _tag: "Trailers" }

const CR = 0x0d
const LF = 0x0a

const latin1 = (bytes: Uint8Array, start = 0, end = bytes.length): string => {
  let s = ""
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!)
  return s
}

/**
 * How the body of a request with this head is framed.
 * @example
 * ```ts
 * bodyFraming("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n") // { chunked: false, length: 3, expectContinue: false }
 * ```
 * @since 0.1.0
 */
export const bodyFraming = (head: string): { readonly chunked: boolean; readonly length: number; readonly expectContinue: boolean } => {
  let chunked = false
  let length = 0
  let expectContinue = false
  const lines = head.split("\r\n")
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    const colon = line.indexOf(":")
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim().toLowerCase()
    if (name === "transfer-encoding") {
      const codings = value.split(",").map((c) => c.trim()).filter((c) => c !== "")
      chunked = codings[codings.length - 1] === "chunked"
    } else if (name === "content-length") {
      const n = Number.parseInt(value.split(",")[0]!.trim(), 10)
      if (Number.isFinite(n) && n >= 0) length = n
    } else if (name === "expect") {
      expectContinue = value === "100-continue"
    }
  }
  return { chunked, length: chunked ? 0 : length, expectContinue }
}

/**
 * Incremental request framer. Feed it what the client writes; it returns the heads and whole
 * requests completed by those bytes, in order.
 * @example
 * ```ts
 * const framer = new RequestFramer()
 * framer.push(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n")) // [{ _tag: "Head", ... }, { _tag: "Request", bytes }]
 * ```
 * @since 0.1.0
 */
export class RequestFramer {
  private state: State = { _tag: "Head" }
  /** Bytes of the request in progress. */
  private parts: Array<Uint8Array> = []
  /** The current line (head, chunk size or trailer), Latin-1. */
  private line = ""
  /** Head bytes as text, while in the head. */
  private headText = ""

  push(bytes: Uint8Array): Array<FramingEvent> {
    const events: Array<FramingEvent> = []
    let start = 0
    let i = 0
    const n = bytes.length
    const finishRequest = (end: number) => {
      this.parts.push(bytes.subarray(start, end))
      events.push({ _tag: "Request", bytes: concatBytes(this.parts) })
      this.parts = []
      start = end
      this.state = { _tag: "Head" }
      this.headText = ""
      this.line = ""
    }
    while (i < n) {
      const st = this.state
      switch (st._tag) {
        case "Head": {
          const b = bytes[i++]!
          // Empty lines before the request line are skipped (kept in the recorded bytes).
          if (this.headText === "" && (b === CR || b === LF)) continue
          this.headText += String.fromCharCode(b)
          if (b === LF && this.headText.endsWith("\r\n\r\n")) {
            const head = this.headText
            const framing = bodyFraming(head)
            this.parts.push(bytes.subarray(start, i))
            start = i
            events.push({ _tag: "Head", head: concatBytes(this.parts), expectContinue: framing.expectContinue })
            this.headText = ""
            if (framing.chunked) this.state = { _tag: "ChunkSize" }
            else if (framing.length > 0) this.state = { _tag: "Length", remaining: framing.length }
            else finishRequest(i)
          }
          break
        }
        case "Length": {
          const take = Math.min(st.remaining, n - i)
          i += take
          st.remaining -= take
          if (st.remaining === 0) finishRequest(i)
          break
        }
        case "ChunkSize": {
          const b = bytes[i++]!
          if (b === LF) {
            const sizeText = this.line.replace(/\r$/, "").split(";")[0]!.trim()
            this.line = ""
            const size = Number.parseInt(sizeText === "" ? "0" : sizeText, 16)
            if (!Number.isFinite(size) || size <= 0) this.state = { _tag: "Trailers" }
            else this.state = { _tag: "ChunkData", remaining: size + 2 } // data + CRLF
          } else {
            this.line += String.fromCharCode(b)
          }
          break
        }
        case "ChunkData": {
          const take = Math.min(st.remaining, n - i)
          i += take
          st.remaining -= take
          if (st.remaining === 0) this.state = { _tag: "ChunkSize" }
          break
        }
        case "Trailers": {
          const b = bytes[i++]!
          if (b === LF) {
            const empty = this.line === "" || this.line === "\r"
            this.line = ""
            if (empty) finishRequest(i)
          } else {
            this.line += String.fromCharCode(b)
          }
          break
        }
      }
    }
    if (start < n) this.parts.push(bytes.subarray(start, n))
    return events
  }

  /** Whether a request is partly written (bytes seen since the last complete request). */
  get inProgress(): boolean {
    return this.parts.length > 0 || this.headText !== "" || this.state._tag !== "Head"
  }
}

/**
 * Latin-1 decoding of request bytes (for `requestsText`).
 * @example
 * ```ts
 * toLatin1(new Uint8Array([0x47, 0xff])) // "G\xff"
 * ```
 * @since 0.1.0
 */
export const toLatin1 = (bytes: Uint8Array): string => latin1(bytes)
