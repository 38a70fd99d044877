/**
 * The package's public surface: each namespace exports at run time exactly what the README
 * documents (internals stay internal), and no module of src/ takes part in an import cycle
 * (type-only imports included).
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as Package from "../src/index.js"

const documented: Record<keyof typeof Package, ReadonlyArray<string>> = {
  ClientConnection: ["ClientConnection", "DEFAULT_MAX_DISCARD", "Exchange"],
  Headers: ["Headers", "empty", "from", "fromInput", "fromPairs", "fromRaw"],
  Http1Error: [
    "BadStatusLine", "BodyTooLarge", "CannotSendHeader", "CannotSendRequest", "ConnectError", "ConnectionReset",
    "ContentLengthMismatch", "DecodeError", "IncompleteRead", "InvalidChunk", "InvalidContentLength", "InvalidHeader",
    "InvalidMethod", "InvalidRequestFraming", "InvalidTlsOptions", "InvalidURL", "LineTooLong", "NotConnected",
    "PoolExhausted", "RemoteDisconnected", "RequestBodyError", "ResponseNotReady", "TimeoutError", "TlsError",
    "TooManyHeaders", "TooManyRedirects", "TunnelError", "UnknownProtocol", "UnknownTransferEncoding",
    "isHttp1Error", "isImproperConnectionState", "isProtocolError", "isRetryable", "isTransportError", "tags"
  ],
  HttpClient: ["HttpClient", "bypassesProxy", "isIdempotent", "layer", "layerConfig", "layerWith", "layerWithoutTransport", "layerWithoutTransportWith", "make", "retryPolicy"],
  HttpConnection: ["make"],
  HttpResponse: [],
  HttpsConnection: ["make"],
  ParserEvents: ["defaultLimits"],
  PlatformHttpClient: ["fromClient", "layer", "layerConfig", "layerFromClient", "layerWith", "layerWithoutTransport", "layerWithoutTransportWith", "make", "toClientResponse"],
  RequestEncoder: [
    "LAST_CHUNK", "RequestHead", "bodyKindOf", "bytesBody", "declaredFraming", "encodeChunk", "hostHeader", "lastChunk",
    "noBody", "prepareRequest", "putRequest", "streamBody", "validateHeader", "validateHeaderName", "validateHeaderValue",
    "validateMethod", "validateTarget"
  ],
  ResponseParser: ["ResponseParser", "parseResponse"],
  Transport: [
    "MockPeer", "Transport", "checkTlsContext", "honouredTlsKeys", "layer", "layerMock", "layerNet", "layerNetWith", "layerTls",
    "layerTlsWith", "mock", "refusedTlsKeys", "validateTlsOptions"
  ]
}

describe("public surface", () => {
  for (const [name, mod] of Object.entries(Package)) {
    it(`${name} exports what the README documents, and nothing else`, () => {
      expect(Object.keys(mod as object).sort()).toEqual([...(documented[name as keyof typeof Package] ?? ["<undocumented module>"])].sort())
    })
  }
})

const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), "../src")
const files = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : []
  })

describe("module graph", () => {
  it("has no import cycle (type-only imports included)", () => {
    const graph = new Map<string, Array<string>>()
    for (const file of files(srcDir)) {
      // Imports only: comments (JSDoc examples) stripped.
      const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")
      const deps = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/g)].map((m) =>
        resolve(dirname(file), m[1]!.replace(/\.js$/, ".ts"))
      )
      graph.set(file, deps)
    }
    const cycles: Array<string> = []
    const state = new Map<string, "visiting" | "done">()
    const stack: Array<string> = []
    const visit = (f: string): void => {
      if (state.get(f) === "done") return
      if (state.get(f) === "visiting") {
        cycles.push([...stack.slice(stack.indexOf(f)), f].map((p) => p.slice(srcDir.length + 1)).join(" → "))
        return
      }
      state.set(f, "visiting")
      stack.push(f)
      for (const d of graph.get(f) ?? []) visit(d)
      stack.pop()
      state.set(f, "done")
    }
    for (const f of graph.keys()) visit(f)
    expect(cycles).toEqual([])
  })
})
