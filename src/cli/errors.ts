/**
 * The command's failures: the one line it prints for each, and the exit-code table (one code per
 * group of errors; the numbers are curl's where curl has the same group).
 * @since 0.1.0
 */
import { Data } from "effect"
import type * as Http1Error from "../Http1Error.js"

/** A command line we cannot run: a bad option value, an unreadable `--data @file`, ... */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

/** `--fail` and the server answered with a status of 400 or more. */
export class HttpStatusError extends Data.TaggedError("HttpStatusError")<{
  readonly status: number
  readonly reason: string
}> {
  override get message() {
    return `the server answered ${this.status}${this.reason === "" ? "" : ` ${this.reason}`} (--fail)`
  }
}

/** Writing the body to `-o FILE` or to stdout failed. */
export class WriteError extends Data.TaggedError("WriteError")<{ readonly target: string; readonly cause: unknown }> {
  override get message() {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `cannot write to ${this.target}: ${detail}`
  }
}

/** Everything the command can fail with. */
export type CliError = Http1Error.Http1Error | UsageError | HttpStatusError | WriteError

/** One row of the exit-code table. */
export interface ExitGroup {
  readonly code: number
  readonly group: string
  readonly tags: ReadonlyArray<string>
}

/**
 * The exit-code table, as the README documents it. A tag appears in exactly one row (the
 * `InvalidHeader` tag is split by side: the request's is caller input, the response's a protocol
 * error).
 */
export const exitTable: ReadonlyArray<ExitGroup> = [
  { code: 0, group: "success (an HTTP error status too, without `--fail`)", tags: [] },
  {
    code: 2,
    group: "caller input: the command line, a file it names, or a request the library refuses to send",
    tags: ["UsageError", "InvalidURL", "InvalidMethod", "InvalidHeader (request)", "InvalidRequestFraming", "ContentLengthMismatch", "RequestBodyError", "InvalidTlsOptions"]
  },
  { code: 5, group: "proxy: the proxy refused the CONNECT tunnel", tags: ["TunnelError"] },
  { code: 7, group: "connect / DNS: refused, unreachable, name not found, pool queue full", tags: ["ConnectError", "PoolExhausted"] },
  { code: 8, group: "protocol: the server sent something that is not HTTP/1.1 we accept", tags: ["BadStatusLine", "UnknownProtocol", "LineTooLong", "TooManyHeaders", "InvalidContentLength", "InvalidChunk", "UnknownTransferEncoding", "InvalidHeader (response)"] },
  { code: 18, group: "incomplete body: the server closed before the body's end", tags: ["IncompleteRead"] },
  { code: 22, group: "HTTP status ≥ 400 with `--fail`", tags: ["HttpStatusError"] },
  { code: 23, group: "write error: the output file or stdout", tags: ["WriteError"] },
  { code: 28, group: "timeout (any phase: connect, write, headers, body, total)", tags: ["TimeoutError"] },
  { code: 35, group: "TLS: handshake or certificate verification", tags: ["TlsError"] },
  { code: 47, group: "too many redirects (`-L`, `--max-redirs`)", tags: ["TooManyRedirects"] },
  { code: 56, group: "connection lost: reset, or closed before any response byte", tags: ["ConnectionReset", "RemoteDisconnected"] },
  { code: 61, group: "content encoding: a `--compressed` body that does not decode", tags: ["DecompressionError"] },
  { code: 63, group: "body over a size limit", tags: ["BodyTooLarge"] },
  { code: 1, group: "anything else (a decode error, or a bug: please report it)", tags: ["DecodeError", "RequestAborted", "NotConnected", "CannotSendRequest", "CannotSendHeader", "ResponseNotReady"] }
]

const codeByTag = new Map<string, number>()
for (const row of exitTable) for (const tag of row.tags) codeByTag.set(tag.replace(/ \(.*\)$/, ""), row.code)

/** The exit code of a failure (see {@link exitTable}). */
export const exitCodeOf = (error: CliError): number => {
  if (error._tag === "InvalidHeader") return error.side === "request" ? 2 : 8
  return codeByTag.get(error._tag) ?? 1
}

/** What the command was doing when it failed, to locate errors that carry no host. */
export interface Where {
  readonly method: string
  readonly host: string
  readonly port: number
  /** Body bytes delivered before the failure. */
  readonly bodyBytes?: number | undefined
}

const hostPort = (host: string, port: number) => `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`

/** `at`, naming the peer that failed when it is not the request's origin (a proxy). */
const via = (at: string, peer: { readonly host: string; readonly port: number }, where: Where): string =>
  where.host === "" || (peer.host === where.host && peer.port === where.port) ? at : `${at.slice(0, -1)} via ${hostPort(peer.host, peer.port)}]`

/**
 * The one line a failure prints: the error's tag, what happened (phase and bytes seen), and where
 * (`[METHOD host:port]`).
 *
 * @example
 * ```ts
 * errorLine(incompleteRead, { method: "GET", host: "127.0.0.1", port: 8080, bodyBytes: 40 })
 * // "IncompleteRead: 40 of 100 body bytes, then the server closed [GET 127.0.0.1:8080]"
 * ```
 */
export const errorLine = (error: CliError, where: Where): string => {
  const at = where.host === "" ? ` [${where.method}]` : ` [${where.method} ${hostPort(where.host, where.port)}]`
  const seen = where.bodyBytes ?? 0
  switch (error._tag) {
    case "IncompleteRead": {
      const got = Math.max(seen, error.partial.length)
      const of = error.expected === undefined ? `${got} body bytes (chunked body unfinished)` : `${got} of ${got + error.expected} body bytes`
      return `IncompleteRead: ${of}, then the server closed${at}`
    }
    case "TimeoutError": {
      const bytes = error.bytesReceived !== undefined ? error.bytesReceived : seen > 0 ? seen : undefined
      const detail = error.detail === undefined ? "" : ` (${error.detail})`
      return `TimeoutError: phase ${error.phase}, limit ${error.timeoutMs} ms${detail}${bytes === undefined ? "" : `, ${bytes} response bytes seen`}${at}`
    }
    case "ConnectError":
      return `ConnectError: ${error.code ?? "cannot connect"}, phase connect${error.socketPath === undefined ? "" : ` (Unix socket ${error.socketPath})`}${via(at, error, where)}`
    case "TlsError":
      return `TlsError: ${error.reason}${error.code === undefined ? "" : ` (${error.code})`}, phase handshake${via(at, error, where)}`
    case "UsageError":
      return `UsageError: ${error.reason}`
    case "WriteError":
      return `WriteError: ${error.message}${at}`
    case "HttpStatusError":
      return `HttpStatusError: ${error.message}${at}`
    default: {
      // The library's messages end with their own `[METHOD host:port]` when they know it.
      const message = error.message
      const body = seen > 0 ? ` (after ${seen} body bytes)` : ""
      return /\]$/.test(message) ? `${error._tag}: ${message.replace(/ \[[^\]]*\]$/, "")}${body}${at}` : `${error._tag}: ${message}${body}${at}`
    }
  }
}

/** {@link exitTable} as the README's markdown table. */
export const exitTableMarkdown = (): string => {
  // "InvalidHeader (request)" → "`InvalidHeader` (request)"
  const tag = (t: string) => t.replace(/^(\S+)/, "`$1`")
  return [
    "| exit code | group | errors |",
    "| ---: | --- | --- |",
    ...exitTable.map((row) => `| ${row.code} | ${row.group} | ${row.tags.length === 0 ? "—" : row.tags.map(tag).join(", ")} |`)
  ].join("\n")
}
