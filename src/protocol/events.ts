/**
 * The events and limits of the sans-IO response parser. Plain data, no I/O, no Effect runtime.
 *
 * The parser is pull-based (h11 style): the connection `feed`s bytes, then calls `next()` until
 * it returns `NeedData`. Body bytes come out as `Data` events whose `bytes` are subarrays of the
 * fed buffers (no copying).
 * @since 0.1.0
 */
import type { Headers } from "../Headers.js"
import type {
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

/** Limits that bound what a hostile server can make the client do or hold. */
export interface ParserLimits {
  /** Bytes in one status, header, chunk-size (extensions included) or trailer line. Default 65,536. */
  readonly maxLineSize: number
  /** Bytes in one whole head (status line + headers). Default 262,144 (256 KiB). */
  readonly maxHeadSize: number
  /** Header fields in one head. Default 100. */
  readonly maxHeaders: number
  /** Trailer fields after a chunked body. Default 100. */
  readonly maxTrailers: number
  /** 1xx interim responses before the final one. Default 100. */
  readonly maxInterimResponses: number
  /** Bytes of chunk extensions in one chunk-size line. Default 4,096. */
  readonly maxChunkExtensionSize: number
}

export const defaultLimits: ParserLimits = {
  maxLineSize: 65_536,
  maxHeadSize: 262_144,
  maxHeaders: 100,
  maxTrailers: 100,
  maxInterimResponses: 100,
  maxChunkExtensionSize: 4_096
}

/** How the body of a response is delimited (RFC 9112 §6.3). */
export type BodyFraming = "none" | "length" | "chunked" | "close"

/** A response head: a 1xx interim one (`interim: true`) or the final one. */
export interface HeadEvent {
  readonly _tag: "Head"
  readonly status: number
  /** Reason phrase, may be empty. Latin-1. */
  readonly reason: string
  /** 10 for HTTP/1.0 (and HTTP/0.9), 11 for any other HTTP/1.x. */
  readonly version: 10 | 11
  /** Flat `[name, value, name, value, ...]`, names as sent, values with OWS trimmed, obs-fold joined. */
  readonly headers: Array<string>
  /** A 1xx other than 101: another head follows for the same request. */
  readonly interim: boolean
  readonly framing: BodyFraming
  /** The body length when `framing === "length"`. */
  readonly contentLength: number | undefined
  /** Whether the connection may carry another exchange after this response (not `willClose`). */
  readonly keepAlive: boolean
  /**
   * The connection stops being HTTP after this head: a 101 Switching Protocols, or a 2xx answer
   * to CONNECT. Bytes after the head belong to the new protocol (see `takeBuffered`).
   */
  readonly upgrade: boolean
}

/** A slice of body bytes (a subarray of a fed buffer; copy it if you keep it past the next feed). */
export interface DataEvent {
  readonly _tag: "Data"
  readonly bytes: Uint8Array
}

/** The end of the message. `trailers` is flat `[name, value, ...]` (empty unless chunked trailers came). */
export interface EndEvent {
  readonly _tag: "End"
  readonly trailers: Array<string>
}

/** The parser needs more bytes (or `feedEof`) before it can say anything more. */
export interface NeedDataEvent {
  readonly _tag: "NeedData"
}

/** Errors the parser reports. */
export type ParseError =
  | BadStatusLine
  | UnknownProtocol
  | LineTooLong
  | TooManyHeaders
  | InvalidHeader
  | InvalidContentLength
  | InvalidChunk
  | UnknownTransferEncoding
  | IncompleteRead
  | RemoteDisconnected

/** The message is broken; the parser is stuck in the error state (every later `next()` returns it again). */
export interface ErrorEvent {
  readonly _tag: "Error"
  readonly error: ParseError
}

export type ParserEvent = HeadEvent | DataEvent | EndEvent | NeedDataEvent | ErrorEvent

/** A 1xx interim response seen before the final one (100 Continue, 103 Early Hints, ...). */
export interface InterimResponse {
  readonly status: number
  readonly reason: string
  readonly headers: Headers
}
