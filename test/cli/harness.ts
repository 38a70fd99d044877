/**
 * Builds the CLI once per test file (`tsc -p tsconfig.build.json` into a temp package whose
 * node_modules links to the repo's, with the repo's package.json, so `dist/cli/main.js` and its
 * shebang are the real thing) and runs it as a child process with a bounded time.
 */
import { execFile, spawn } from "node:child_process"
import { copyFileSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..")

/** A built copy of the package in a temp directory. */
export interface Built {
  readonly dir: string
  readonly main: string
  readonly remove: () => void
}

/** Compiles src/ into `<tmp>/dist` (about 15 s on a busy machine). */
export const buildCli = (): Promise<Built> =>
  new Promise((ok, fail) => {
    const dir = mkdtempSync(join(tmpdir(), "effect-http1-cli-"))
    symlinkSync(realpathSync(join(repo, "node_modules")), join(dir, "node_modules"), "dir")
    copyFileSync(join(repo, "package.json"), join(dir, "package.json"))
    const tsc = join(repo, "node_modules/typescript/bin/tsc")
    execFile(process.execPath, [tsc, "-p", join(repo, "tsconfig.build.json"), "--outDir", join(dir, "dist")], { timeout: 170_000 }, (err, stdout, stderr) => {
      if (err) {
        rmSync(dir, { recursive: true, force: true })
        fail(new Error(`tsc failed: ${stdout}${stderr}`, { cause: err }))
      } else ok({ dir, main: join(dir, "dist/cli/main.js"), remove: () => rmSync(dir, { recursive: true, force: true }) })
    })
  })

/** What a run of the command gave. */
export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** A clean environment: no proxy variables unless given. */
export const baseEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/tmp",
  NO_COLOR: "1",
  ...extra
})

/** Runs `file args` with a hard time limit (the child is killed past it). */
export const runFile = (
  file: string,
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string>; readonly input?: string; readonly timeoutMs?: number; readonly cwd?: string } = {}
): Promise<Run> =>
  new Promise((ok) => {
    const started = performance.now()
    const child = spawn(file, args, { env: options.env ?? baseEnv(), cwd: options.cwd ?? tmpdir(), stdio: ["pipe", "pipe", "pipe"] })
    const out: Array<Buffer> = []
    const err: Array<Buffer> = []
    child.stdout.on("data", (d: Buffer) => out.push(d))
    child.stderr.on("data", (d: Buffer) => err.push(d))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 15_000)
    child.stdin.on("error", () => {})
    child.stdin.end(options.input ?? "")
    child.on("close", (code) => {
      clearTimeout(timer)
      ok({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), ms: performance.now() - started })
    })
  })

/** Runs the built CLI with node. */
export const cli = (built: Built, args: ReadonlyArray<string>, options: Parameters<typeof runFile>[2] = {}): Promise<Run> =>
  runFile(process.execPath, [built.main, ...args], options)

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * Runs the built CLI under a pseudo-terminal (util-linux `script`): stdin, stdout and stderr of
 * the command are the terminal; what `script` prints is what the terminal got (both streams).
 */
export const cliInTerminal = (built: Built, args: ReadonlyArray<string>, timeoutMs = 15_000): Promise<Run> =>
  runFile("script", ["-qec", [process.execPath, built.main, ...args].map(shellQuote).join(" "), "/dev/null"], { timeoutMs, env: baseEnv({ TERM: "xterm", COLUMNS: "100" }) })
