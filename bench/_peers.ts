/**
 * The stores a user might pick instead of reel, behind one small interface, each loaded lazily so
 * that one that does not install or load on a runtime is reported as n/a with the reason:
 *
 * - node:sqlite (`DatabaseSync`): a table `events (partition, offset, key, value)` with primary key
 *   (partition, offset), WAL, one transaction per batch; `synchronous=OFF` (never) or `FULL` (durable);
 * - bun:sqlite on Bun (the runtime's own binding of the same library);
 * - classic-level (LevelDB): one `batch()` per batch, `sync: true` when durable;
 * - lmdb (lmdb-js): `noSync` when not durable; keys = partition (uint32) + offset (uint64), big-endian;
 * - Deno KV on Deno (`Deno.openKv(path)`, SQLite underneath): keys `["e", partition, offset]`, one
 *   atomic commit per batch (in slices of at most 500 mutations and 800 KiB, Deno KV's limits).
 *
 * @module
 */
import { join } from "node:path";

/** One open store. */
export interface PeerStore {
  /**
   * Appends one batch of values at offsets `baseOffset…` of `partition`, committed under the
   * store's durability when the returned promise settles.
   */
  append(partition: number, baseOffset: number, values: Uint8Array[]): Promise<void> | void;
  /** Reads every record in key order; returns the records and value bytes seen. */
  scan(): Promise<{ records: number; bytes: number }>;
  /** Closes the store. */
  close(): Promise<void> | void;
}

/** A kind of store. */
export interface Peer {
  /** Its name in the tables. */
  name: string;
  /** Its settings, for the report. */
  settings(durable: boolean): string;
  /** Opens a fresh store in `dir`; `durable` asks for an fsync per commit. */
  open(dir: string, durable: boolean): Promise<PeerStore>;
}

/** A peer that could not be loaded, with the reason. */
export interface Unavailable {
  name: string;
  reason: string;
}

function key12(partition: number, offset: number): Uint8Array {
  const k = new Uint8Array(12);
  const v = new DataView(k.buffer);
  v.setUint32(0, partition);
  v.setUint32(4, Math.floor(offset / 2 ** 32));
  v.setUint32(8, offset >>> 0);
  return k;
}

const CREATE =
  "CREATE TABLE events (partition INTEGER NOT NULL, offset INTEGER NOT NULL, key BLOB, value BLOB, " +
  "PRIMARY KEY (partition, offset))";
const INSERT = "INSERT INTO events (partition, offset, key, value) VALUES (?, ?, ?, ?)";
const SELECT = "SELECT partition, offset, key, value FROM events ORDER BY partition, offset";

interface SqliteStatement {
  run(...params: unknown[]): unknown;
  iterate(...params: unknown[]): Iterable<{ value: Uint8Array | null }>;
}

async function nodeSqlite(): Promise<Peer> {
  const { DatabaseSync } = await import("node:sqlite");
  new DatabaseSync(":memory:").close();
  return {
    name: "node:sqlite",
    settings: (d) => `WAL, synchronous=${d ? "FULL" : "OFF"}, one transaction per batch`,
    open(dir, durable) {
      const db = new DatabaseSync(join(dir, "events.db"));
      db.exec("PRAGMA journal_mode=WAL");
      db.exec(`PRAGMA synchronous=${durable ? "FULL" : "OFF"}`);
      db.exec(CREATE);
      const insert = db.prepare(INSERT) as unknown as SqliteStatement;
      return Promise.resolve({
        append(partition, baseOffset, values) {
          db.exec("BEGIN");
          for (let i = 0; i < values.length; i++) insert.run(partition, baseOffset + i, null, values[i]);
          db.exec("COMMIT");
        },
        scan() {
          let records = 0, bytes = 0;
          for (const row of (db.prepare(SELECT) as unknown as SqliteStatement).iterate()) {
            records++;
            bytes += row.value!.length;
          }
          return Promise.resolve({ records, bytes });
        },
        close: () => db.close(),
      });
    },
  };
}

interface BunDatabase {
  exec(sql: string): void;
  prepare(sql: string): {
    run(...params: unknown[]): unknown;
    iterate(): Iterable<{ value: Uint8Array | null }>;
  };
  transaction(fn: () => void): () => void;
  close(): void;
}

async function bunSqlite(): Promise<Peer> {
  const specifier = "bun:sqlite"; // not a literal, so that `deno check` leaves it alone
  const { Database } = await import(specifier) as { Database: new (path: string) => BunDatabase };
  return {
    name: "bun:sqlite",
    settings: (d) => `WAL, synchronous=${d ? "FULL" : "OFF"}, one transaction per batch`,
    open(dir, durable) {
      const db = new Database(join(dir, "events.db"));
      db.exec("PRAGMA journal_mode=WAL");
      db.exec(`PRAGMA synchronous=${durable ? "FULL" : "OFF"}`);
      db.exec(CREATE);
      const insert = db.prepare(INSERT);
      let batch: { partition: number; baseOffset: number; values: Uint8Array[] };
      const write = db.transaction(() => {
        const { partition, baseOffset, values } = batch;
        for (let i = 0; i < values.length; i++) insert.run(partition, baseOffset + i, null, values[i]);
      });
      return Promise.resolve({
        append(partition, baseOffset, values) {
          batch = { partition, baseOffset, values };
          write();
        },
        scan() {
          let records = 0, bytes = 0;
          for (const row of db.prepare(SELECT).iterate()) {
            records++;
            bytes += row.value!.length;
          }
          return Promise.resolve({ records, bytes });
        },
        close: () => db.close(),
      });
    },
  };
}

async function classicLevel(): Promise<Peer> {
  const { ClassicLevel } = await import("classic-level");
  return {
    name: "classic-level",
    settings: (d) => `LevelDB, one batch() per batch, sync: ${d}`,
    async open(dir, durable) {
      const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, "level"), {
        keyEncoding: "view",
        valueEncoding: "view",
      });
      await db.open();
      return {
        async append(partition, baseOffset, values) {
          const ops = new Array(values.length);
          for (let i = 0; i < values.length; i++) {
            ops[i] = { type: "put", key: key12(partition, baseOffset + i), value: values[i] };
          }
          await db.batch(ops, { sync: durable });
        },
        async scan() {
          let records = 0, bytes = 0;
          const it = db.iterator();
          for (;;) {
            const entries = await it.nextv(1000);
            if (entries.length === 0) break;
            for (const [, value] of entries) {
              records++;
              bytes += value.length;
            }
          }
          await it.close();
          return { records, bytes };
        },
        close: () => db.close(),
      };
    },
  };
}

async function lmdb(): Promise<Peer> {
  const { open } = await import("lmdb");
  return {
    name: "lmdb",
    settings: (d) =>
      d
        ? "lmdb-js, one async transaction per batch (batched by lmdb-js), synced on commit"
        : "lmdb-js, transactionSync per batch, noSync",
    open(dir, durable) {
      const db = open<Uint8Array, Uint8Array>({
        path: join(dir, "lmdb"),
        keyEncoding: "binary",
        encoding: "binary",
        noSync: !durable,
        overlappingSync: false,
        mapSize: 16 * 2 ** 30,
      });
      return Promise.resolve({
        append(partition, baseOffset, values) {
          if (!durable) {
            db.transactionSync(() => {
              for (let i = 0; i < values.length; i++) db.putSync(key12(partition, baseOffset + i), values[i]);
            });
            return;
          }
          return db.transaction(() => {
            for (let i = 0; i < values.length; i++) db.put(key12(partition, baseOffset + i), values[i]);
          }).then(() => {});
        },
        scan() {
          let records = 0, bytes = 0;
          for (const { value } of db.getRange({})) {
            records++;
            bytes += value.length;
          }
          return Promise.resolve({ records, bytes });
        },
        close: () => db.close(),
      });
    },
  };
}

interface Kv {
  atomic(): { set(key: unknown[], value: unknown): unknown; commit(): Promise<{ ok: boolean }> };
  list(
    selector: { prefix: unknown[] },
    options?: { batchSize?: number },
  ): AsyncIterable<{ value: Uint8Array }>;
  close(): void;
}

function denoKv(): Promise<Peer> {
  const d = (globalThis as unknown as { Deno?: { openKv?: (path?: string) => Promise<Kv> } }).Deno;
  if (!d) return Promise.reject(new Error("Deno KV exists only on Deno"));
  if (typeof d.openKv !== "function") {
    return Promise.reject(new Error("Deno.openKv is missing (run with --unstable-kv)"));
  }
  return Promise.resolve({
    name: "Deno KV",
    settings: () => "Deno.openKv(path) (SQLite inside, its own sync settings), atomic commit per batch",
    async open(dir) {
      const kv = await d.openKv!(join(dir, "kv.sqlite"));
      return {
        async append(partition, baseOffset, values) {
          for (let i = 0; i < values.length;) {
            const op = kv.atomic();
            let bytes = 0, n = 0;
            for (; i < values.length && n < 500 && bytes + values[i].length < 700_000; i++, n++) {
              op.set(["e", partition, baseOffset + i], values[i]);
              bytes += values[i].length + 32;
            }
            const res = await op.commit();
            if (!res.ok) throw new Error("Deno KV commit failed");
          }
        },
        async scan() {
          let records = 0, bytes = 0;
          for await (const entry of kv.list({ prefix: ["e"] }, { batchSize: 500 })) {
            records++;
            bytes += entry.value.length;
          }
          return { records, bytes };
        },
        close: () => kv.close(),
      };
    },
  });
}

/** Loads every peer this runtime can run; the others come back with the reason. */
export async function loadPeers(runtime: string): Promise<{ peers: Peer[]; unavailable: Unavailable[] }> {
  const loaders: [string, () => Promise<Peer>][] = [
    ["node:sqlite", nodeSqlite],
    ["bun:sqlite", bunSqlite],
    ["classic-level", classicLevel],
    ["lmdb", lmdb],
    ["Deno KV", denoKv],
  ];
  const peers: Peer[] = [];
  const unavailable: Unavailable[] = [];
  for (const [name, load] of loaders) {
    if (name === "bun:sqlite" && runtime !== "bun") continue;
    if (name === "Deno KV" && runtime !== "deno") {
      unavailable.push({ name, reason: "Deno only" });
      continue;
    }
    try {
      peers.push(await load());
    } catch (err) {
      unavailable.push({ name, reason: String((err as Error)?.message ?? err).split("\n")[0] });
    }
  }
  return { peers, unavailable };
}
