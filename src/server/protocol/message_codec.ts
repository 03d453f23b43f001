/**
 * Reads and writes any version of a Kafka message from its JSON definition: versioned fields,
 * nullable fields, and from the flexible versions on, compact strings, bytes and arrays
 * (`uvarint(n + 1)`) and tagged fields (KIP-482). Field names become camelCase
 * (`ThrottleTimeMs` → `throttleTimeMs`); a field the version lacks reads as its default.
 *
 * Grammar (Kafka `docs/protocol.html`, "Protocol Primitive Types"):
 * ```
 * STRING          => int16 length, UTF-8 bytes        COMPACT_STRING => uvarint(length + 1), bytes
 * BYTES / RECORDS => int32 length, bytes              COMPACT_BYTES  => uvarint(length + 1), bytes
 * ARRAY           => int32 count, elements            COMPACT_ARRAY  => uvarint(count + 1), elements
 * (null: length -1, or uvarint 0 when compact)
 * TAGGED_FIELDS   => uvarint count, count × (uvarint tag, uvarint size, size bytes), tags ascending
 * ```
 *
 * @module
 */
import { ByteReader, MalformedRequestError, ZERO_UUID } from "./byte_reader.ts";
import { ByteWriter } from "./byte_writer.ts";
import { type FieldSchema, inVersions, type MessageSchema } from "./message_schema.ts";

/** A decoded message or struct: camelCase field names to values. */
export type Message = { [field: string]: unknown };

/** The reader and writer of one message version. */
export interface VersionCodec {
  /**
   * Reads the message.
   *
   * @throws {MalformedRequestError} when the bytes do not parse
   */
  read(reader: ByteReader): Message;
  /**
   * Writes the message; a field left out (`undefined`) is written as its default.
   *
   * @throws {TypeError} when a field that may not be null is null
   */
  write(writer: ByteWriter, value: Message): void;
}

type Read = (r: ByteReader) => unknown;
type Write = (w: ByteWriter, v: unknown) => void;

interface CompiledField {
  key: string;
  read: Read;
  write: Write;
  defaultValue: () => unknown;
  /** Whether a value is the default (a tagged field is then left out). */
  isDefault: (v: unknown) => boolean;
  tag?: number;
}

type Structs = Map<string, FieldSchema[]>;

const camel = (name: string) => name[0].toLowerCase() + name.slice(1);

function primitiveDefault(field: FieldSchema): unknown {
  const d = field.default;
  switch (field.type) {
    case "bool":
      return d === true || d === "true";
    case "string":
      return d === "null" ? null : (d as string | undefined) ?? "";
    case "bytes":
      return new Uint8Array(0);
    case "records":
      return null;
    case "uuid":
      return ZERO_UUID;
    default:
      return d === undefined ? 0 : Number(d);
  }
}

function primitive(
  type: string,
  compact: boolean,
  nullable: boolean,
  name: string,
): { read: Read; write: Write } {
  const nonNull = (v: unknown, what: string) => {
    if (v === null && !nullable) throw new TypeError(`Cannot write field ${name}: ${what} may not be null`);
  };
  switch (type) {
    case "int8":
      return { read: (r) => r.int8(), write: (w, v) => w.int8(v as number) };
    case "int16":
      return { read: (r) => r.int16(), write: (w, v) => w.int16(v as number) };
    case "uint16":
      return { read: (r) => r.uint16(), write: (w, v) => w.uint16(v as number) };
    case "int32":
      return { read: (r) => r.int32(), write: (w, v) => w.int32(v as number) };
    case "uint32":
      return { read: (r) => r.uint32(), write: (w, v) => w.uint32(v as number) };
    case "int64":
      return { read: (r) => r.int64(), write: (w, v) => w.int64(v as number) };
    case "float64":
      return { read: (r) => r.float64(), write: (w, v) => w.float64(v as number) };
    case "bool":
      return { read: (r) => r.bool(), write: (w, v) => w.bool(v as boolean) };
    case "uuid":
      return { read: (r) => r.uuid(), write: (w, v) => w.uuid(v as string) };
    case "string":
      return {
        read: (r) => {
          const s = r.string(compact);
          if (s === null && !nullable) throw new MalformedRequestError(`field ${name} may not be null`);
          return s;
        },
        write: (w, v) => {
          nonNull(v, "a string");
          w.string(v as string | null, compact);
        },
      };
    case "bytes":
      return {
        read: (r) => {
          const b = r.bytesView(compact);
          if (b === null && !nullable) throw new MalformedRequestError(`field ${name} may not be null`);
          return b === null ? null : b.slice();
        },
        write: (w, v) => {
          nonNull(v, "bytes");
          w.bytes(v as Uint8Array | null, compact);
        },
      };
    case "records":
      // Records are always nullable bytes; a view into the request (Produce appends it as it came).
      return { read: (r) => r.bytesView(compact), write: (w, v) => w.bytes(v as Uint8Array | null, compact) };
  }
  throw new TypeError(`Unknown field type ${type} of field ${name}`);
}

function compileField(
  field: FieldSchema,
  version: number,
  flexible: boolean,
  structs: Structs,
): CompiledField {
  const compact = flexible &&
    (field.flexibleVersions === undefined || inVersions(field.flexibleVersions, version));
  const nullable = inVersions(field.nullableVersions, version);
  const isArray = field.type.startsWith("[]");
  const element = isArray ? field.type.slice(2) : field.type;
  const structFields = field.fields ?? structs.get(element);
  let readOne: Read, writeOne: Write, elementDefault: () => unknown;
  if (structFields) {
    const codec = compileStruct(structFields, version, flexible, structs);
    readOne = codec.read;
    writeOne = (w, v) => codec.write(w, v as Message);
    elementDefault = codec.defaults;
  } else {
    ({ read: readOne, write: writeOne } = primitive(element, compact, !isArray && nullable, field.name));
    elementDefault = () => primitiveDefault(field);
  }
  const key = camel(field.name);
  const tag = field.taggedVersions !== undefined && inVersions(field.taggedVersions, version)
    ? field.tag
    : undefined;
  if (!isArray) {
    const isDefault = structFields
      ? (v: unknown) => v === undefined || v === null
      : (v: unknown) =>
        v === undefined || v === elementDefault() || (v instanceof Uint8Array && v.length === 0);
    return {
      key,
      read: structFields && nullable ? (r) => (r.int8() < 0 ? null : readOne(r)) : readOne,
      write: structFields && nullable
        ? (w, v) => {
          if (v === null) return w.int8(-1);
          w.int8(1);
          writeOne(w, v);
        }
        : writeOne,
      defaultValue: structFields && nullable && field.default === "null" ? () => null : elementDefault,
      isDefault,
      tag,
    };
  }
  return {
    key,
    read: (r) => {
      const n = r.length(compact, true);
      if (n < 0) {
        if (!nullable) throw new MalformedRequestError(`array ${field.name} may not be null`);
        return null;
      }
      if (n > r.remaining) throw new MalformedRequestError(`array ${field.name} of ${n} runs past the end`);
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readOne(r);
      return out;
    },
    write: (w, v) => {
      if (v === null) {
        if (!nullable) throw new TypeError(`Cannot write field ${field.name}: the array may not be null`);
        return w.lengthPrefix(-1, compact, true);
      }
      const list = v as unknown[];
      w.lengthPrefix(list.length, compact, true);
      for (const item of list) writeOne(w, item);
    },
    defaultValue: () => (nullable && field.default === "null" ? null : []),
    isDefault: (v) => v === undefined || (Array.isArray(v) && v.length === 0),
    tag,
  };
}

interface StructCodec {
  read(r: ByteReader): Message;
  write(w: ByteWriter, v: Message): void;
  defaults(): Message;
}

function compileStruct(
  fields: FieldSchema[],
  version: number,
  flexible: boolean,
  structs: Structs,
): StructCodec {
  const present: CompiledField[] = [];
  const tagged = new Map<number, CompiledField>();
  const absent: CompiledField[] = [];
  for (const field of fields) {
    const compiled = compileField(field, version, flexible, structs);
    if (!inVersions(field.versions, version)) absent.push(compiled);
    else if (flexible && compiled.tag !== undefined) tagged.set(compiled.tag, compiled);
    else present.push(compiled);
  }
  const taggedInOrder = [...tagged.values()].sort((a, b) => a.tag! - b.tag!);
  const all = [...present, ...taggedInOrder, ...absent];
  const defaults = (): Message => {
    const out: Message = {};
    for (const f of all) out[f.key] = f.defaultValue();
    return out;
  };
  return {
    defaults,
    read(r) {
      const out: Message = {};
      for (const f of present) out[f.key] = f.read(r);
      for (const f of absent) out[f.key] = f.defaultValue();
      for (const f of taggedInOrder) out[f.key] = f.defaultValue();
      if (flexible) {
        const count = r.uvarint();
        for (let i = 0; i < count; i++) {
          const tag = r.uvarint();
          const size = r.uvarint();
          const f = tagged.get(tag);
          if (!f) {
            r.skip(size);
            continue;
          }
          const end = r.position + size;
          if (size > r.remaining) throw new MalformedRequestError(`tagged field ${tag} runs past the end`);
          const sub = new ByteReader(r.bytes.subarray(r.position, end));
          out[f.key] = f.read(sub);
          r.position = end;
        }
      }
      return out;
    },
    write(w, v) {
      for (const f of present) {
        const value = v[f.key];
        f.write(w, value === undefined ? f.defaultValue() : value);
      }
      if (!flexible) return;
      const toWrite = taggedInOrder.filter((f) => !f.isDefault(v[f.key]));
      w.uvarint(toWrite.length);
      for (const f of toWrite) {
        const sub = new ByteWriter(64);
        f.write(sub, v[f.key]);
        w.uvarint(f.tag!);
        w.uvarint(sub.length);
        for (const chunk of sub.chunks()) w.raw(chunk);
      }
    },
  };
}

const cache = new WeakMap<MessageSchema, Map<number, VersionCodec>>();

/**
 * The codec of one version of a message, compiled from its definition once and cached.
 *
 * @param schema the message definition
 * @param version the version
 * @returns the reader and writer
 * @throws {RangeError} when the definition has no such version
 * @example Round trip a Heartbeat request v4 (flexible)
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteReader } from "./byte_reader.ts";
 * import { ByteWriter } from "./byte_writer.ts";
 * import { messageCodec } from "./message_codec.ts";
 * import { REQUEST_SCHEMAS } from "./messages.ts";
 * const codec = messageCodec(REQUEST_SCHEMAS.get(12)!, 4);
 * const w = new ByteWriter();
 * codec.write(w, { groupId: "g", generationId: 3, memberId: "m", groupInstanceId: null });
 * const back = codec.read(new ByteReader(w.toBytes()));
 * assert.deepEqual(back, { groupId: "g", generationId: 3, memberId: "m", groupInstanceId: null });
 * ```
 */
export function messageCodec(schema: MessageSchema, version: number): VersionCodec {
  let versions = cache.get(schema);
  if (!versions) cache.set(schema, versions = new Map());
  let codec = versions.get(version);
  if (codec) return codec;
  if (!inVersions(schema.validVersions, version)) {
    throw new RangeError(`${schema.name} has no version ${version} (valid: ${schema.validVersions})`);
  }
  const structs: Structs = new Map((schema.commonStructs ?? []).map((s) => [s.name, s.fields]));
  const struct = compileStruct(schema.fields, version, inVersions(schema.flexibleVersions, version), structs);
  codec = { read: (r) => struct.read(r), write: (w, v) => struct.write(w, v) };
  versions.set(version, codec);
  return codec;
}

/**
 * Whether a version of a message is flexible (compact types and tagged fields, KIP-482).
 *
 * @param schema the message definition
 * @param version the version
 * @returns true when it is
 * @example Produce is flexible from version 9
 * ```ts
 * import assert from "node:assert/strict";
 * import { isFlexible } from "./message_codec.ts";
 * import { REQUEST_SCHEMAS } from "./messages.ts";
 * assert.equal(isFlexible(REQUEST_SCHEMAS.get(0)!, 9), true); // Produce v9
 * assert.equal(isFlexible(REQUEST_SCHEMAS.get(0)!, 8), false);
 * ```
 */
export function isFlexible(schema: MessageSchema, version: number): boolean {
  return inVersions(schema.flexibleVersions, version);
}
