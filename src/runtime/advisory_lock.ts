/**
 * Advisory OS locks (`flock(2)`, exclusive, never waiting) on files: the kernel drops one when the
 * process holding it dies, kill -9 included, so a lock file whose owner holds one can be told
 * from a dead owner's without asking about the owner's process at all, which Deno without
 * `--allow-run`/`--allow-sys` cannot do. Deno takes it with `Deno.FsFile.tryLockSync`; Bun with
 * `flock` from the C library through `bun:ffi`; both are the same lock, so each runtime sees the
 * other's. Where neither is available (Node, or no C library found) every function here says so
 * by returning `undefined`, and callers fall back to process checks.
 *
 * @module
 */
import { fs } from "./file_system.ts";
import { openNativeLibrary } from "./native_library.ts";

/** An advisory lock this process holds on an open file; the file stays open until `release()`. */
export interface AdvisoryLock {
  /** Drops the lock and closes the file; does nothing the second time. */
  release(): void;
}

interface LockBackend {
  /** Opens `path` and takes its lock: the held lock, `false` when another holds it, `undefined` when it cannot try. */
  tryHold(path: string): AdvisoryLock | false | undefined;
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** A held lock whose `release()` unlocks, then closes the file (even when the unlock fails), once. */
function heldLock(unlock: () => void, close: () => void): AdvisoryLock {
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      try {
        unlock();
      } finally {
        close();
      }
    },
  };
}

function denoBackend(): LockBackend | undefined {
  const Deno = g.Deno;
  if (typeof Deno?.openSync !== "function" || typeof Deno.FsFile?.prototype?.tryLockSync !== "function") {
    return undefined;
  }
  return {
    tryHold(path) {
      // deno-lint-ignore no-explicit-any
      let file: any;
      try {
        file = Deno.openSync(path, { read: true });
      } catch (err) {
        if ((err as { code?: string }).code === "ENOENT" || err instanceof Deno.errors.NotFound) throw err;
        return undefined; // no permission to open it: cannot try
      }
      let got: boolean;
      try {
        got = file.tryLockSync(true);
      } catch {
        file.close();
        return undefined;
      }
      if (!got) {
        file.close();
        return false;
      }
      return heldLock(() => file.unlockSync(), () => file.close());
    },
  };
}

function bunBackend(): LockBackend | undefined {
  if (g.Bun === undefined) return undefined;
  const LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
  let flock: ((fd: number, op: number) => number) | undefined;
  const libc = g.process?.platform === "darwin" ? ["libc.dylib", "/usr/lib/libSystem.B.dylib"] : [
    "libc.so.6",
    `libc.musl-${g.process?.arch === "arm64" ? "aarch64" : "x86_64"}.so.1`,
    "libc.so",
  ];
  for (const name of libc) {
    try {
      flock = openNativeLibrary(name, { flock: { args: ["i32", "i32"], returns: "i32" } })?.flock;
      break;
    } catch { /* no such library, or no FFI: try the next name */ }
  }
  if (flock === undefined) return undefined;
  const lock = flock;
  return {
    tryHold(path) {
      const fd = fs.openSync(path, "r");
      if (lock(fd, LOCK_EX | LOCK_NB) !== 0) {
        fs.closeSync(fd);
        return false;
      }
      return heldLock(() => lock(fd, LOCK_UN), () => fs.closeSync(fd));
    },
  };
}

const backend: LockBackend | undefined = denoBackend() ?? bunBackend();

/** Whether this runtime can take advisory locks (Deno and Bun on Linux and macOS can). */
export const advisoryLocksAvailable: boolean = backend !== undefined;

/**
 * Opens a file and takes an exclusive advisory lock on it without waiting. The lock lasts until
 * `release()` or the end of the process, however it ends.
 *
 * @param path the file (it must exist)
 * @returns the held lock; `false` when another open file (in any process, this one included)
 *   holds it; `undefined` when this runtime cannot take advisory locks or may not open the file
 * @throws {Error} ENOENT when the file does not exist
 * @example Two holds of one file: the second is refused until the first is released
 * ```ts
 * import assert from "node:assert/strict";
 * import { tryAdvisoryLock } from "./advisory_lock.ts";
 * const path = Deno.makeTempDirSync() + "/f";
 * Deno.writeTextFileSync(path, "");
 * const first = tryAdvisoryLock(path);
 * assert.ok(first);
 * assert.equal(tryAdvisoryLock(path), false);
 * first.release();
 * const again = tryAdvisoryLock(path);
 * assert.ok(again);
 * again.release();
 * ```
 */
export function tryAdvisoryLock(path: string): AdvisoryLock | false | undefined {
  return backend?.tryHold(path);
}

/**
 * Whether some process holds an advisory lock on a file, found by trying to take it (and
 * releasing it at once).
 *
 * @param path the file
 * @returns `true` when held, `false` when free, `undefined` when this runtime cannot tell (or the
 *   file is gone)
 * @example Held while someone has it, free after
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAdvisoryLockHeld, tryAdvisoryLock } from "./advisory_lock.ts";
 * const path = Deno.makeTempDirSync() + "/f";
 * Deno.writeTextFileSync(path, "");
 * assert.equal(isAdvisoryLockHeld(path), false);
 * const lock = tryAdvisoryLock(path);
 * assert.equal(isAdvisoryLockHeld(path), true);
 * if (lock) lock.release();
 * ```
 */
export function isAdvisoryLockHeld(path: string): boolean | undefined {
  let got: AdvisoryLock | false | undefined;
  try {
    got = tryAdvisoryLock(path);
  } catch {
    return undefined;
  }
  if (got === undefined) return undefined;
  if (got === false) return true;
  got.release();
  return false;
}
