/**
 * Hosts, ports and URLs for the request side: Python's `HTTPConnection._get_hostport`, a host
 * validator (CVE-2019-18348), and a strict front end to the WHATWG URL parser. Pure: no Effect
 * runtime, no I/O; failures are returned as {@link InvalidURL} values, never thrown.
 * @since 0.1.0
 */
import { InvalidURL } from "../Http1Error.js"

/** A host (brackets removed from IPv6 literals) and a port. */
export interface HostPort {
  readonly host: string
  readonly port: number
}

/** What {@link parseUrl} returns. */
export interface ParsedUrl {
  readonly scheme: "http" | "https"
  /** Host name, lower-cased and punycoded by WHATWG URL; IPv6 literals without brackets. */
  readonly host: string
  /** The port, the scheme's default (80 / 443) when the URL has none. */
  readonly port: number
  /** The scheme's default port (80 / 443). */
  readonly defaultPort: number
  /** Origin-form request target: path and query, `"/"` when the path is empty; no fragment. */
  readonly target: string
  /** `scheme://host[:port]`, default port omitted (WHATWG `origin`). */
  readonly origin: string
  /** Percent-decoded credentials, present only when the URL carries some. */
  readonly userinfo?: { readonly username: string; readonly password: string }
}

const isAsciiDigits = (s: string): boolean => {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

/** Hex digits, `:` and `.` (embedded IPv4) before an optional `%zone`: the shape of an IPv6 literal. */
const looksLikeIPv6 = (host: string): boolean => {
  const pct = host.indexOf("%")
  const end = pct < 0 ? host.length : pct
  if (end === 0) return false
  for (let i = 0; i < end; i++) {
    const c = host.charCodeAt(i)
    const ok = (c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) || c === 0x2e
    if (!ok) return false
  }
  return true
}

/** Whether `port` is an integer in 0..65535. */
export const isValidPort = (port: number): boolean => Number.isInteger(port) && port >= 0 && port <= 65535

/**
 * Refuses a host we would put on the wire (connect target and `Host` header): empty, control
 * characters, space, DEL, non-ASCII (no IDNA here: WHATWG URL punycodes URL hosts), and the URL
 * delimiters `/ ? # @ \ [ ]` that could make the `Host` header mean another authority; a host with
 * a colon must look like an IPv6 address (hex digits, `:`, `.`, then an optional `%zone`).
 * `host` is given without IPv6 brackets; `%` (IPv6 zone id) is allowed.
 */
export const validateHost = (host: string, original: string = host): InvalidURL | undefined => {
  if (host.length === 0) return new InvalidURL({ url: original, reason: "empty host" })
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i)
    if (c <= 0x20 || c === 0x7f) {
      return new InvalidURL({ url: original, reason: `host can't contain control characters or whitespace (found ${JSON.stringify(host[i])})` })
    }
    if (c > 0x7f) {
      return new InvalidURL({ url: original, reason: `host must be ASCII (found ${JSON.stringify(host[i])}); use its IDNA (punycode) form` })
    }
    // / ? # @ [ ] \
    if (c === 0x2f || c === 0x3f || c === 0x23 || c === 0x40 || c === 0x5b || c === 0x5d || c === 0x5c) {
      return new InvalidURL({ url: original, reason: `host can't contain ${JSON.stringify(host[i])}` })
    }
  }
  if (host.includes(":") && !looksLikeIPv6(host)) {
    return new InvalidURL({ url: original, reason: "a host with a colon must be an IPv6 address" })
  }
  return undefined
}

/**
 * Python's `HTTPConnection._get_hostport`: splits `host:port`, `[v6]:port`, `[v6]`; an empty
 * port after the colon means `defaultPort`; a non-numeric port is `InvalidURL("nonnumeric port: ...")`.
 * When `port` is given, `hostPort` is only unbracketed.
 *
 * Deliberate differences from Python: the port must be plain ASCII digits in 0..65535 (Python's
 * `int()` also takes `+80`, ` 80`, `8_0`); a bare IPv6 address without brackets (two or more
 * colons, e.g. `::1`) is taken whole as the host with the default port (Python would read
 * `::1` as host `:` port 1; `h:1:2` is still host `h:1`, refused as not IPv6); the host is validated with {@link validateHost}.
 */
export const parseHostPort = (hostPort: string, port: number | undefined, defaultPort: number): HostPort | InvalidURL => {
  let host = hostPort
  let p: number
  if (port === undefined) {
    const i = hostPort.lastIndexOf(":")
    const j = hostPort.lastIndexOf("]")
    const bareV6 = j < 0 && i > 0 && hostPort.indexOf(":") !== i && looksLikeIPv6(hostPort)
    if (i > j && !bareV6) {
      const digits = hostPort.slice(i + 1)
      if (digits === "") p = defaultPort
      else if (!isAsciiDigits(digits)) return new InvalidURL({ url: hostPort, reason: `nonnumeric port: '${digits}'` })
      else {
        p = Number(digits)
        if (p > 65535) return new InvalidURL({ url: hostPort, reason: `port out of range: ${digits}` })
      }
      host = hostPort.slice(0, i)
    } else {
      p = defaultPort
    }
  } else {
    if (!isValidPort(port)) return new InvalidURL({ url: hostPort, reason: `port out of range: ${port}` })
    p = port
  }
  if (host.length >= 2 && host.charCodeAt(0) === 0x5b && host.charCodeAt(host.length - 1) === 0x5d) {
    host = host.slice(1, -1)
  }
  const bad = validateHost(host, hostPort)
  if (bad !== undefined) return bad
  return { host, port: p }
}

const defaultPorts = { "http:": 80, "https:": 443 } as const

/**
 * Parses an absolute `http`/`https` URL with WHATWG `URL`, after refusing what that parser would
 * silently repair: any control character, whitespace (it strips tabs and newlines anywhere, and
 * leading/trailing spaces), DEL, C1 controls, and backslashes (read as `/` in special schemes, a
 * classic parser-differential). Other schemes and an empty host are refused.
 */
export const parseUrl = (url: string): ParsedUrl | InvalidURL => {
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i)
    if (c <= 0x20 || (c >= 0x7f && c <= 0x9f)) {
      return new InvalidURL({ url, reason: `URL can't contain control characters or whitespace (found ${JSON.stringify(url[i])})` })
    }
    if (c === 0x5c) return new InvalidURL({ url, reason: "URL can't contain a backslash" })
  }
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return new InvalidURL({ url, reason: "not an absolute URL" })
  }
  const protocol = u.protocol
  if (protocol !== "http:" && protocol !== "https:") {
    return new InvalidURL({ url, reason: `unsupported scheme ${JSON.stringify(protocol.slice(0, -1))} (http and https only)` })
  }
  let host = u.hostname
  if (host.length >= 2 && host.charCodeAt(0) === 0x5b) host = host.slice(1, -1)
  if (host.length === 0) return new InvalidURL({ url, reason: "missing host" })
  const defaultPort = defaultPorts[protocol]
  const port = u.port === "" ? defaultPort : Number(u.port)
  let href = u.href
  const hash = href.indexOf("#")
  if (hash >= 0) href = href.slice(0, hash)
  const pathname = u.pathname === "" ? "/" : u.pathname
  const q = href.indexOf("?")
  const target = q >= 0 ? pathname + href.slice(q) : pathname
  const base = {
    scheme: protocol === "http:" ? "http" : "https",
    host,
    port,
    defaultPort,
    target,
    origin: u.origin
  } as const
  if (u.username === "" && u.password === "") return base
  try {
    return { ...base, userinfo: { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } }
  } catch {
    return new InvalidURL({ url, reason: "malformed percent-encoding in userinfo" })
  }
}

/** Whether a value returned by {@link parseHostPort} / {@link parseUrl} is the error. */
export const isInvalidURL = (u: unknown): u is InvalidURL => u instanceof InvalidURL
