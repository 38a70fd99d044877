/**
 * The published package as a consumer sees it (issue 10, packaging).
 *
 * `beforeAll` builds the package the way `npm run build` does (tsc, tsconfig.build.json) into a
 * staging copy under `os.tmpdir()` (the repository's own `dist/` is left alone), `npm pack`s it,
 * and installs the tarball with the peers `effect` and `@effect/platform` into a fresh consumer app
 * with `npm ci --offline`: the app's lockfile is written here from this repository's
 * package-lock.json (same versions, tarball URLs and integrity), so npm needs no registry metadata
 * and takes every tarball from the local npm cache (`npm ci` of this repository filled it). No
 * network: `--offline` refuses anything not already cached.
 *
 * Then:
 * - a CommonJS consumer `require("effect-http1")` (the `default` export condition; Node >= 20.19
 *   loads ESM through `require`), and an ESM consumer imports it;
 * - `npm ls` in the app: the peer ranges accept the versions this repository is tested with;
 * - esbuild bundles a one-import app (`import { Http1Error } from "effect-http1"`) and the
 *   minified size stays under a bound (`"sideEffects": false` lets the other modules go); the
 *   same bundle from a copy of the package without the flag is printed alongside.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { createHash } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const run = promisify(execFile)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const npm = process.platform === "win32" ? "npm.cmd" : "npm"

/** The minified size bound for `import { Http1Error } from "effect-http1"`. */
const BUNDLE_LIMIT = 120 * 1024

interface LockEntry {
  version: string
  resolved?: string
  integrity?: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  [k: string]: unknown
}

/**
 * The lockfile entries for `names` and everything they depend on, taken from this repository's
 * package-lock.json with node_modules paths kept (so nested versions stay nested).
 */
const lockClosure = (names: ReadonlyArray<string>): Record<string, LockEntry> => {
  const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>
  }
  const P = lock.packages
  const find = (from: string, name: string): string | undefined => {
    let dir = from
    for (;;) {
      const key = `${dir ? dir + "/" : ""}node_modules/${name}`
      if (P[key]) return key
      if (!dir) return undefined
      const i = dir.lastIndexOf("/node_modules/")
      dir = i < 0 ? "" : dir.slice(0, i)
    }
  }
  const out: Record<string, LockEntry> = {}
  const walk = (key: string): void => {
    if (out[key]) return
    const entry: LockEntry = { ...P[key]! }
    delete entry["dev"]
    delete entry["devOptional"]
    delete entry["peer"]
    const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length)
    entry.resolved ??= `https://registry.npmjs.org/${name}/-/${name.split("/").pop()}-${entry.version}.tgz`
    out[key] = entry
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const child = find(key, dep)
      if (child) walk(child)
    }
  }
  for (const name of names) {
    const key = find("", name)
    if (!key) throw new Error(`${name} is not in package-lock.json`)
    walk(key)
  }
  return out
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  name: string
  version: string
  license: string
  files: Array<string>
  peerDependencies: Record<string, string>
  engines: Record<string, string>
}

let work = ""
let app = ""

const node = (args: ReadonlyArray<string>) => run(process.execPath, args, { cwd: app })

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "effect-http1-package-"))

  // 1. Stage and build, as `npm run build` does, without touching the repository's dist/.
  const stage = path.join(work, "stage")
  fs.mkdirSync(stage)
  const copied = new Set(["package.json", "tsconfig.json", "tsconfig.build.json", "src"])
  for (const f of pkg.files) if (f !== "dist") copied.add(f)
  for (const f of fs.readdirSync(root)) if (/^(readme|license|licence|changelog)/i.test(f)) copied.add(f)
  for (const f of copied) {
    const from = path.join(root, f)
    if (fs.existsSync(from)) fs.cpSync(from, path.join(stage, f), { recursive: true })
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(stage, "node_modules"), "junction")
  await run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
    cwd: stage
  })

  // 2. Pack.
  const packed = await run(npm, ["pack", "--json", "--pack-destination", work], { cwd: stage })
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }]
  const tarball = path.join(work, filename)

  // 3. A consumer app with a lockfile: the tarball plus the peers at this repository's versions.
  app = path.join(work, "app")
  fs.mkdirSync(app)
  const peers = lockClosure(Object.keys(pkg.peerDependencies))
  const dependencies: Record<string, string> = { [pkg.name]: `file:${tarball}` }
  for (const name of Object.keys(pkg.peerDependencies)) dependencies[name] = peers[`node_modules/${name}`]!.version
  const manifest = { name: "consumer", version: "1.0.0", private: true, dependencies }
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify(manifest, null, 2))
  const integrity = "sha512-" + createHash("sha512").update(fs.readFileSync(tarball)).digest("base64")
  const lockfile = {
    name: "consumer",
    version: "1.0.0",
    lockfileVersion: 3,
    requires: true,
    packages: {
      "": { name: "consumer", version: "1.0.0", dependencies },
      [`node_modules/${pkg.name}`]: {
        version: pkg.version,
        resolved: `file:${tarball}`,
        integrity,
        license: pkg.license,
        peerDependencies: pkg.peerDependencies,
        engines: pkg.engines
      },
      ...peers
    }
  }
  fs.writeFileSync(path.join(app, "package-lock.json"), JSON.stringify(lockfile, null, 2))
  try {
    await run(npm, ["ci", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: app })
  } catch (e) {
    const err = e as { stderr?: string }
    throw new Error(
      "npm ci --offline failed in the consumer app. The peers' tarballs come from the local npm cache, " +
        "which `npm ci` in this repository fills; run it first.\n" + (err.stderr ?? String(e))
    )
  }
}, 120_000)

afterAll(() => {
  if (work && !process.env["KEEP_PACKAGE_TMP"]) fs.rmSync(work, { recursive: true, force: true })
})

describe("the packed package", () => {
  it("is loaded by a CommonJS consumer with require()", async () => {
    // The `default` condition; before it, require() threw ERR_PACKAGE_PATH_NOT_EXPORTED.
    const script = `
      const m = require("effect-http1")
      const err = new m.Http1Error.ConnectError({ host: "h", port: 1, cause: new Error("x") })
      console.log(JSON.stringify({
        keys: Object.keys(m).sort(),
        error: [err._tag, err instanceof Error, m.Http1Error.isTransportError(err)],
        fns: [typeof m.HttpConnection.make, typeof m.HttpClient.HttpClient, typeof m.Transport.layerNet,
              typeof m.PlatformHttpClient.layer, typeof m.Headers.fromPairs]
      }))`
    const { stdout } = await node(["-e", script])
    const out = JSON.parse(stdout) as { keys: Array<string>; error: Array<unknown>; fns: Array<string> }
    expect(out.keys).toEqual(
      expect.arrayContaining([
        "ClientConnection",
        "Headers",
        "Http1Error",
        "HttpClient",
        "HttpConnection",
        "HttpResponse",
        "HttpsConnection",
        "ParserEvents",
        "PlatformHttpClient",
        "RequestEncoder",
        "ResponseParser",
        "Transport"
      ])
    )
    expect(out.error).toEqual(["ConnectError", true, true])
    expect(out.fns).toEqual(["function", "function", "object", "object", "function"])
  }, 30_000)

  it("is loaded by an ESM consumer, with the same namespaces as require()", async () => {
    const script = `
      import * as m from "effect-http1"
      import { createRequire } from "node:module"
      const cjs = createRequire(process.cwd() + "/")("effect-http1")
      console.log(JSON.stringify([Object.keys(m).sort(), Object.keys(cjs).sort(), cjs.Http1Error === m.Http1Error]))`
    const { stdout } = await node(["--input-type=module", "-e", script])
    const [esm, cjs, same] = JSON.parse(stdout) as [Array<string>, Array<string>, boolean]
    expect(esm).toEqual(cjs)
    expect(esm.length).toBeGreaterThanOrEqual(12)
    expect(same).toBe(true)
  }, 30_000)

  it("has its peers satisfied by the versions this repository is tested with", async () => {
    // npm ls exits non-zero on a missing or invalid peer.
    const { stdout } = await run(npm, ["ls", "--all", "--offline", "--json"], { cwd: app })
    const tree = JSON.parse(stdout) as {
      dependencies: Record<string, { version: string; dependencies?: Record<string, { version: string }> }>
    }
    expect(Object.keys(tree.dependencies).sort()).toEqual(["@effect/platform", "effect", "effect-http1"])
    expect(pkg.peerDependencies).toEqual({ "@effect/platform": "^0.97.0", effect: "^3.22.0" })
  }, 30_000)

  it("tree-shakes: a one-import app bundles small with sideEffects: false", async () => {
    const esbuild = await import("esbuild")
    // The same package without the flag, for comparison.
    const installed = path.join(app, "node_modules", pkg.name)
    const installedManifest = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"))
    expect(installedManifest.sideEffects).toBe(false)
    const noFlag = path.join(app, "node_modules", `${pkg.name}-no-side-effects-flag`)
    fs.cpSync(installed, noFlag, { recursive: true })
    delete installedManifest.sideEffects
    fs.writeFileSync(path.join(noFlag, "package.json"), JSON.stringify(installedManifest, null, 2))

    const bundle = async (from: string) => {
      const entry = path.join(app, `entry-${from}.mjs`)
      fs.writeFileSync(
        entry,
        `import { Http1Error } from "${from}"\nconsole.log(JSON.stringify(Object.keys(Http1Error).length))\n`
      )
      const outfile = path.join(app, `bundle-${from}.mjs`)
      await esbuild.build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        minify: true,
        platform: "node",
        format: "esm",
        absWorkingDir: app,
        logLevel: "silent"
      })
      return { outfile, size: fs.statSync(outfile).size }
    }
    const flagged = await bundle(pkg.name)
    const unflagged = await bundle(path.basename(noFlag))
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
    console.log(
      `bundle of \`import { Http1Error } from "effect-http1"\` (esbuild, minified, effect included): ` +
        `${kb(flagged.size)} with sideEffects: false, ${kb(unflagged.size)} without (limit ${kb(BUNDLE_LIMIT)})`
    )
    expect(flagged.size).toBeLessThan(BUNDLE_LIMIT)
    expect(flagged.size).toBeLessThan(unflagged.size)
    // The tree-shaken bundle still runs and still has every error export.
    const { stdout } = await node([flagged.outfile])
    expect(Number(stdout.trim())).toBeGreaterThan(30)
  }, 60_000)
})
