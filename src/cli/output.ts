/**
 * Where the body goes: stdout (waiting for each write, so a slow pipe slows the download rather
 * than filling memory) or the `-o` file (created on the first byte, or empty at the end).
 * @since 0.1.0
 */
import { closeSync, openSync, writeSync } from "node:fs"
import { Effect } from "effect"
import { WriteError } from "./errors.js"

/** A body sink. */
export interface Sink {
  readonly write: (chunk: Uint8Array) => Effect.Effect<void, WriteError>
  /** Creates the file if nothing was written yet, and closes it. */
  readonly end: Effect.Effect<void, WriteError>
  /** Closes without creating. */
  readonly abort: Effect.Effect<void>
}

/** Writes to stdout. */
export const stdoutSink = (): Sink => ({
  write: (chunk) =>
    Effect.async<void, WriteError>((resume) => {
      process.stdout.write(chunk, (err) => resume(err ? Effect.fail(new WriteError({ target: "stdout", cause: err })) : Effect.void))
    }),
  end: Effect.void,
  abort: Effect.void
})

/** Writes to a file, opened (truncated) on the first write. */
export const fileSink = (path: string): Sink => {
  let fd: number | undefined
  const open = () =>
    Effect.try({
      try: () => {
        if (fd === undefined) fd = openSync(path, "w")
        return fd
      },
      catch: (cause) => new WriteError({ target: path, cause })
    })
  return {
    write: (chunk) =>
      Effect.flatMap(open(), (f) =>
        Effect.try({
          try: () => {
            let off = 0
            while (off < chunk.length) off += writeSync(f, chunk, off, chunk.length - off)
          },
          catch: (cause) => new WriteError({ target: path, cause })
        })
      ),
    end: Effect.flatMap(open(), (f) =>
      Effect.try({
        try: () => {
          closeSync(f)
          fd = undefined
        },
        catch: (cause) => new WriteError({ target: path, cause })
      })
    ),
    abort: Effect.sync(() => {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
    })
  }
}
