/**
 * `npm run bench [parser|connection|pool|peers|platform ...]`: runs the benchmark sections (all by default)
 * against a loopback server in a child process, prints markdown tables and writes them to
 * `bench-results.md` at the repository root (not committed).
 *
 * `BENCH_QUICK=1` for a short run (1 s windows). Everything is bounded in time; the servers and
 * child processes are closed at the end and the process exits by itself.
 */
import { writeFileSync } from "node:fs"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { runConnectionBench, type BenchTiming } from "./bench/connection.js"
import { runPeersBench } from "./bench/peers.js"
import { runPoolBench } from "./bench/pool.js"
import { forkServer, type RunningServer } from "./bench/servers.js"
import { fmtNum, markdownTable, renderSection, type Section } from "./bench/table.js"
import { libSource } from "./bench/lib.js"
import { platformSections, runPlatformBench } from "./bench/platform.js"

const ALL = ["parser", "connection", "pool", "peers", "platform"] as const
type SectionName = (typeof ALL)[number]

const args = process.argv.slice(2).filter((a) => a !== "--")
const unknown = args.filter((a) => !(ALL as ReadonlyArray<string>).includes(a))
if (unknown.length > 0) {
  console.error(`unknown section(s): ${unknown.join(", ")}; choose from ${ALL.join(", ")}`)
  process.exit(2)
}
const selected: ReadonlyArray<SectionName> = args.length === 0 ? ALL : (args as Array<SectionName>)
const quick = process.env.BENCH_QUICK === "1"
const timing: BenchTiming = quick ? { warmupMs: 500, durationMs: 1000, quick } : { warmupMs: 1000, durationMs: 3000, quick }

/** The whole run may not take longer than this; then it reports and exits with code 1. */
const HARD_LIMIT_MS = quick ? 4 * 60_000 : 12 * 60_000

const log = (s: string) => console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}`)
const t0 = performance.now()

interface ParserRow {
  readonly name: string
  readonly ours: number
  readonly llhttp: number
  readonly unit: string
}

const runParser = async (): Promise<Array<Section>> => {
  let mod: {
    runParserBench?: ((options?: { quick?: boolean }) => Promise<ReadonlyArray<ParserRow>> | ReadonlyArray<ParserRow>) | undefined
  }
  try {
    // A computed specifier: the module may not exist yet, and the typecheck must not need it.
    mod = (await import(new URL("./bench/parser.js", import.meta.url).href)) as typeof mod
  } catch (e) {
    const code = (e as { code?: string }).code
    const reason = code === "ERR_MODULE_NOT_FOUND" ? "scripts/bench/parser.ts does not exist yet" : `failed to load: ${String(e).slice(0, 120)}`
    log(`parser: skipped (${reason})`)
    return [{ title: "Parser", table: `_skipped: ${reason}_` }]
  }
  if (typeof mod.runParserBench !== "function") {
    return [{ title: "Parser", table: "_skipped: scripts/bench/parser.ts has no runParserBench()_" }]
  }
  log("parser: runParserBench()")
  const rows = await mod.runParserBench({ quick })
  return [
    {
      title: "Parser (sans-IO core vs llhttp)",
      table: markdownTable(
        ["case", "ours", "llhttp", "unit", "ours / llhttp"],
        rows.map((r) => [r.name, r.ours, r.llhttp, r.unit, r.llhttp === 0 ? undefined : `${(r.ours / r.llhttp).toFixed(2)}×`])
      ),
      notes: ["from scripts/bench/parser.ts; see its `unit` column for which direction is better"]
    }
  ]
}

/**
 * The platform adapter's own section (`scripts/bench/platform.ts`): ours `PlatformHttpClient`
 * against @effect/platform-node's `layerUndici` and `layer`, with CPU per request.
 */
const runPlatform = async (ports: { port: number; tlsPort: number }): Promise<Array<Section>> => {
  log("platform: runPlatformBench()")
  const rows = await runPlatformBench({ port: ports.port, timing, log })
  return platformSections(rows, timing)
}

const main = async (): Promise<number> => {
  const cpus = os.cpus()
  const header = [
    `# effect-http1 benchmarks`,
    "",
    `${new Date().toISOString()} — Node ${process.version}, ${cpus.length} × ${cpus[0]?.model.trim() ?? "cpu"}, ${os.platform()} ${os.release()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" / ")}${quick ? " — BENCH_QUICK" : ""}`,
    "",
    "Server: raw node:net loopback server in a child process (scripts/bench/servers.ts), canned `Hello, world!` response (Content-Length: 13), `/big/<n>` bodies.",
    "",
    `effect-http1 loaded from ${libSource}.`
  ].join("\n")
  const out: Array<string> = [header]
  const emit = (sections: ReadonlyArray<Section>) => {
    for (const s of sections) {
      const text = renderSection(s)
      out.push(text)
      console.log(`\n${text}`)
    }
  }

  let server: RunningServer | undefined
  const needServer = selected.some((s) => s !== "parser")
  let failed = false
  try {
    if (needServer) {
      server = await forkServer()
      log(`server child on 127.0.0.1:${server.port}`)
    }
    for (const name of selected) {
      const started = performance.now()
      try {
        if (name === "parser") emit(await runParser())
        if (name === "connection") emit(await runConnectionBench(server!.port, timing, log))
        if (name === "pool") emit((await runPoolBench(server!.port, timing, log)).sections)
        if (name === "peers") emit((await runPeersBench(server!, timing, log)).sections)
        if (name === "platform") emit(await runPlatform(server!))
      } catch (e) {
        failed = true
        log(`${name}: failed: ${e instanceof Error ? e.stack : String(e)}`)
        emit([{ title: name, table: `_failed: ${String(e).slice(0, 200)}_` }])
      }
      log(`${name}: ${fmtNum((performance.now() - started) / 1000)} s`)
    }
  } finally {
    await server?.close()
  }
  out.push(`\n_Total run time: ${fmtNum((performance.now() - t0) / 1000)} s._\n`)
  const file = fileURLToPath(new URL("../bench-results.md", import.meta.url))
  writeFileSync(file, out.join("\n\n"))
  log(`wrote ${file}`)
  return failed ? 1 : 0
}

const hard = setTimeout(() => {
  console.error(`bench: still running after ${HARD_LIMIT_MS / 1000} s; giving up`)
  process.exit(1)
}, HARD_LIMIT_MS)
hard.unref()

main().then(
  (code) => {
    process.exitCode = code
    // Everything is closed by now; if a handle leaked anyway, say so and leave.
    setTimeout(() => {
      console.error("bench: handles still open 3 s after the end; exiting")
      process.exit(code)
    }, 3_000).unref()
  },
  (e: unknown) => {
    console.error("bench failed:", e)
    process.exit(1)
  }
)
