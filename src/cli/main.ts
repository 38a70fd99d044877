#!/usr/bin/env node
/**
 * `effect-http1 [METHOD] URL [options]`: the command-line client (package.json `bin`). Parses
 * the command line with `@effect/cli`, runs one request (curl style) or load mode, prints one
 * line for a failure, and exits with the code of the exit-code table (`errors.ts`).
 * @since 0.1.0
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Cause, Effect, Either, Exit, Layer } from "effect"
import { spec, toSettings, type Parsed, type Settings } from "./args.js"
import { version, whereOf } from "./client.js"
import { errorLine, exitCodeOf, type CliError } from "./errors.js"
import { formatReport, loadExitCode, runLoad } from "./load.js"
import { runSingle, type Io } from "./single.js"

// A closed stdout (`| head`) fails the write in progress (WriteError, exit 23) instead of
// crashing the process with an unhandled 'error' event.
process.stdout.on("error", () => {})

const io: Io = {
  log: (line) => process.stderr.write(`${line}\n`),
  stderrIsTty: process.stderr.isTTY === true,
  stdoutIsTty: process.stdout.isTTY === true,
  columns: process.stderr.columns ?? 80,
  writeStderr: (text) => process.stderr.write(text)
}

const report = (s: Settings | undefined, line: string) => {
  if (s === undefined || !s.silent || s.showError) process.stderr.write(`${line}\n`)
}

/** Runs the parsed command line; the exit code. */
const run = (parsed: Parsed): Effect.Effect<number> =>
  Effect.gen(function* () {
    const settings = toSettings(parsed)
    if (Either.isLeft(settings)) {
      report(undefined, errorLine(settings.left, { method: "-", host: "", port: 0 }))
      return exitCodeOf(settings.left)
    }
    const s = settings.right
    if (s.load !== undefined) {
      const load = s.load
      return yield* runLoad(s, load).pipe(
        Effect.match({
          onFailure: (e: CliError) => {
            report(s, errorLine(e, whereOf(s.method, s.url)))
            return exitCodeOf(e)
          },
          onSuccess: (r) => {
            process.stdout.write(formatReport(s, load, r))
            return loadExitCode(s, r)
          }
        })
      )
    }
    const result = yield* runSingle(s, io)
    if (result.error === undefined) return 0
    report(s, errorLine(result.error, result.where))
    return exitCodeOf(result.error)
  })

let code = 0
const command = Command.make("effect-http1", spec, (parsed) =>
  Effect.map(run(parsed), (c) => {
    code = c
  })
)

const cli = Command.run(command, { name: "effect-http1", version })

// Case-sensitive: -i / -I, -o / -O, -s / -S are different options, as in curl.
const environment = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer, CliConfig.layer({ isCaseSensitive: true }))

NodeRuntime.runMain(cli(process.argv).pipe(Effect.provide(environment)), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) return onExit(code)
    const failure = Cause.failureOption(exit.cause)
    // @effect/cli has printed the usage error and the help already.
    if (failure._tag === "Some" && ValidationError.isValidationError(failure.value)) return onExit(2)
    if (Cause.isInterruptedOnly(exit.cause)) return onExit(130)
    process.stderr.write(`internal error: ${Cause.pretty(exit.cause)}\n`)
    onExit(1)
  }
})
