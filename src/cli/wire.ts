/**
 * The `-v` wire log and the socket count of load mode, as a `Transport` wrapped around the real
 * one: every socket the pooled client opens goes through it, so redirects, proxies (the CONNECT
 * exchange included) and retries show up as they happen on the wire.
 *
 * Lines: `* ` connection events (connect, TLS version and ALPN, reuse, close), `> ` request
 * head lines as written, `< ` response head lines as read. Bodies are not printed.
 * @since 0.1.0
 */
import * as tls from "node:tls"
import { Effect } from "effect"
import type * as Transport from "../Transport.js"
import { underlying } from "../transport/node.js"

/** Where log lines go (stderr in the command). */
export type LogLine = (line: string) => void

/** Sockets opened through the wrapper. */
export interface SocketCounter {
  opened: number
}

const CRLFCRLF = "\r\n\r\n"

const hostPort = (host: string, port: number) => `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`

const latin1 = (data: Uint8Array | string): string => (typeof data === "string" ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("latin1"))

/** Prints the head lines of one direction of a socket, request by request. */
class HeadPrinter {
  private buffer = ""
  /** true while bytes belong to a head (false: a body, not printed). */
  private inHead = false

  constructor(
    private readonly prefix: string,
    private readonly log: LogLine,
    /** A 1xx head is followed by another head (responses only). */
    private readonly interimFollows: boolean
  ) {}

  /** A new message starts with the next bytes. */
  start(): void {
    this.inHead = true
    this.buffer = ""
  }

  push(data: Uint8Array | string): void {
    if (!this.inHead) return
    this.buffer += latin1(data)
    for (;;) {
      const end = this.buffer.indexOf(CRLFCRLF)
      if (end < 0) {
        // A head longer than any sane limit: print what we have and stop.
        if (this.buffer.length > 256 * 1024) this.flush(this.buffer)
        return
      }
      const head = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 4)
      this.flush(head)
      this.log(this.prefix.trimEnd())
      if (!(this.interimFollows && /^HTTP\/\d\.\d 1\d\d\b/.test(head))) {
        this.inHead = false
        this.buffer = ""
        return
      }
    }
  }

  private flush(head: string): void {
    for (const line of head.split("\r\n")) this.log(`${this.prefix}${line}`)
  }
}

const tlsDetails = (socket: Transport.Socket): string | undefined => {
  const raw = underlying(socket)
  if (!(raw instanceof tls.TLSSocket)) return undefined
  const cipher = raw.getCipher()
  const alpn = raw.alpnProtocol === false || raw.alpnProtocol === null ? "none" : raw.alpnProtocol
  const cert = raw.getPeerCertificate()
  const subject = cert?.subject?.CN !== undefined ? `, certificate CN=${cert.subject.CN}` : ""
  const verified = raw.authorized ? "verified" : `NOT verified (${String(raw.authorizationError ?? "-k")})`
  return `TLS ${raw.getProtocol() ?? "?"} (${cipher.name}), ALPN: ${alpn}${subject}, ${verified}`
}

const remote = (socket: Transport.Socket): string => {
  const raw = underlying(socket)
  if (raw === undefined) return ""
  if (raw.remoteAddress === undefined) return ""
  return ` (${raw.remoteAddress} port ${raw.remotePort}, local port ${raw.localPort})`
}

/** A socket whose head bytes are logged; `startTls` gives a socket logged the same way. */
const tapSocket = (socket: Transport.Socket, log: LogLine, label: string): Transport.Socket => {
  const out = new HeadPrinter("> ", log, false)
  const inn = new HeadPrinter("< ", log, true)
  let lastWasRead = true
  let exchanges = 0
  let sawEof = false
  return {
    id: socket.id,
    host: socket.host,
    port: socket.port,
    secure: socket.secure,
    hasPendingInput: () => socket.hasPendingInput(),
    isOpen: () => socket.isOpen(),
    close: socket.close,
    write: (data, timeout) =>
      Effect.suspend(() => {
        if (lastWasRead) {
          // The first write after a read (or ever) starts a request: the client writes a whole
          // request before it reads the answer.
          if (exchanges > 0) log(`* Re-using connection #${socket.id} to ${label}`)
          exchanges++
          out.start()
          inn.start()
          lastWasRead = false
        }
        out.push(data)
        return socket.write(data, timeout)
      }),
    read: (timeout) =>
      Effect.map(socket.read(timeout), (chunk) => {
        lastWasRead = true
        if (chunk === undefined) {
          if (!sawEof) log(`* Connection #${socket.id} closed by the server`)
          sawEof = true
        } else inn.push(chunk)
        return chunk
      }),
    startTls: (options) =>
      Effect.map(socket.startTls(options), (secured) => {
        const details = tlsDetails(secured)
        if (details !== undefined) log(`* ${details}`)
        return tapSocket(secured, log, hostPort(options.host, options.port))
      })
  }
}

/**
 * Wraps a transport: counts the sockets it opens, and with `log` writes the wire log.
 *
 * @example
 * ```ts
 * const counter = { opened: 0 }
 * const transport = tapTransport(inner, counter, (line) => process.stderr.write(line + "\n"))
 * ```
 */
export const tapTransport = (
  inner: Transport.TransportService,
  counter: SocketCounter,
  log: LogLine | undefined
): Transport.TransportService => ({
  connect: (options) =>
    Effect.suspend(() => {
      const label = hostPort(options.host, options.port)
      if (log !== undefined) {
        log(`* Connecting to ${label}${options.socketPath === undefined ? "" : ` through the Unix socket ${options.socketPath}`}${options.secure === true ? " (TLS)" : ""}`)
      }
      return Effect.map(inner.connect(options), (socket) => {
        counter.opened++
        if (log === undefined) return socket
        log(`* Connected to ${label}${remote(socket)}, connection #${socket.id}`)
        const details = tlsDetails(socket)
        if (details !== undefined) log(`* ${details}`)
        return tapSocket(socket, log, label)
      })
    })
})
