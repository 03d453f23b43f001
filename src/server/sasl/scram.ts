/**
 * The server side of SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), as Kafka's
 * `ScramSaslServer` runs it (KIP-84): a client-first message naming the user, the server's
 * challenge (the combined nonce, the user's salt and iteration count), the client's proof, and
 * the server's signature. Channel binding is not offered (`n,,` or `y,,` only), as in Kafka.
 *
 * The hashes and PBKDF2 come from Web Crypto (`crypto.subtle`), which Deno, Bun and Node share.
 *
 * @module
 */
import { SaslAuthenticationError } from "../../errors.ts";
import type { SaslExchange } from "./sasl_exchange.ts";

/** The SCRAM mechanisms, by the names Kafka's `sasl.mechanism` uses. */
export type ScramMechanism = "SCRAM-SHA-256" | "SCRAM-SHA-512";

/** A user's stored SCRAM credential (RFC 5802 section 3): never the password itself. */
export interface ScramCredential {
  /** The salt, random bytes. */
  salt: Uint8Array;
  /** PBKDF2 iterations; Kafka's minimum is 4096. */
  iterations: number;
  /** `H(ClientKey)`. */
  storedKey: Uint8Array;
  /** `HMAC(SaltedPassword, "Server Key")`. */
  serverKey: Uint8Array;
}

const HASH: Record<ScramMechanism, { name: "SHA-256" | "SHA-512"; bits: number }> = {
  "SCRAM-SHA-256": { name: "SHA-256", bits: 256 },
  "SCRAM-SHA-512": { name: "SHA-512", bits: 512 },
};

/** Kafka's lowest iteration count for SCRAM-SHA-256 and SCRAM-SHA-512 (`ScramMechanism.minIterations`). */
export const SCRAM_MIN_ITERATIONS = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A copy backed by a plain `ArrayBuffer`, as Web Crypto's types ask. */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

async function hmac(mechanism: ScramMechanism, key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    own(key),
    { name: "HMAC", hash: HASH[mechanism].name },
    false,
    [
      "sign",
    ],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, own(data)));
}

async function hash(mechanism: ScramMechanism, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(HASH[mechanism].name, own(data)));
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Derives the stored credential of a password (RFC 5802 section 3: SaltedPassword by PBKDF2, then
 * ClientKey, StoredKey and ServerKey).
 *
 * @param mechanism `"SCRAM-SHA-256"` or `"SCRAM-SHA-512"`
 * @param password the user's password, UTF-8 (SASLprep is not applied, as in Kafka's client)
 * @param options the salt (16 random bytes when absent) and iterations (4096 when absent)
 * @returns the credential to check a client's proof with
 * @throws {RangeError} when `iterations` is below 4096
 * @example RFC 7677's SCRAM-SHA-256 user: the server signature of its exchange
 * ```ts
 * import assert from "node:assert/strict";
 * import { scramCredential } from "./scram.ts";
 * const salt = Uint8Array.from(atob("W22ZaJ0SNY7soEsUEjb6gQ=="), (c) => c.charCodeAt(0));
 * const credential = await scramCredential("SCRAM-SHA-256", "pencil", { salt, iterations: 4096 });
 * assert.equal(credential.storedKey.length, 32);
 * assert.deepEqual(credential.salt, salt);
 * ```
 */
export async function scramCredential(
  mechanism: ScramMechanism,
  password: string,
  options: { salt?: Uint8Array; iterations?: number } = {},
): Promise<ScramCredential> {
  const iterations = options.iterations ?? SCRAM_MIN_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < SCRAM_MIN_ITERATIONS) {
    throw new RangeError(`Invalid SCRAM iterations ${iterations}: expected at least ${SCRAM_MIN_ITERATIONS}`);
  }
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: HASH[mechanism].name, salt: own(salt), iterations },
      key,
      HASH[mechanism].bits,
    ),
  );
  const clientKey = await hmac(mechanism, salted, encoder.encode("Client Key"));
  return {
    salt,
    iterations,
    storedKey: await hash(mechanism, clientKey),
    serverKey: await hmac(mechanism, salted, encoder.encode("Server Key")),
  };
}

/** Splits `a=x,b=y` into its attributes, in order (RFC 5802 section 5.1). */
function attributes(text: string): [string, string][] {
  return text.split(",").map((part) => {
    if (part.length < 2 || part[1] !== "=") throw failed("a SCRAM message is malformed");
    return [part[0], part.slice(2)];
  });
}

/** Decodes a SCRAM `saslname` (`=2C` is `,`, `=3D` is `=`; any other `=` is malformed). */
function saslName(text: string): string {
  if (/=(?!2C|3D)/.test(text)) throw failed("a SCRAM user name is malformed");
  return text.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

function failed(why: string): SaslAuthenticationError {
  return new SaslAuthenticationError(`Authentication failed: ${why}`);
}

/**
 * One SCRAM exchange on the server side: {@linkcode ScramServer.step} takes the client-first
 * message and answers the challenge, then takes the client-final message and answers the server
 * signature once the proof checks.
 *
 * @example Run RFC 7677's SCRAM-SHA-256 exchange with its nonce and salt
 * ```ts
 * import assert from "node:assert/strict";
 * import { scramCredential, ScramServer } from "./scram.ts";
 * const salt = Uint8Array.from(atob("W22ZaJ0SNY7soEsUEjb6gQ=="), (c) => c.charCodeAt(0));
 * const credential = await scramCredential("SCRAM-SHA-256", "pencil", { salt });
 * const server = new ScramServer("SCRAM-SHA-256", (user) => user === "user" ? credential : undefined, {
 *   serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
 * });
 * const text = (b: Uint8Array) => new TextDecoder().decode(b);
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * const first = await server.step(bytes("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
 * assert.equal(text(first.response), "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
 * const final = await server.step(bytes(
 *   "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
 * ));
 * assert.equal(text(final.response), "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
 * assert.equal(final.principal, "user");
 * ```
 */
export class ScramServer implements SaslExchange {
  readonly #mechanism: ScramMechanism;
  readonly #credentialOf: (user: string) => ScramCredential | undefined;
  readonly #serverNonce: string;
  #state: "first" | "final" | "done" = "first";
  #user = "";
  #gs2Header = "";
  #nonce = "";
  #clientFirstBare = "";
  #serverFirst = "";
  #credential: ScramCredential | undefined;

  /**
   * Starts an exchange.
   *
   * @param mechanism the mechanism the client chose in SaslHandshake
   * @param credentialOf the stored credential of a user, or `undefined` for an unknown user
   * @param options `serverNonce`: the server's part of the nonce (random base64 by default; fixed
   *   only to replay a published exchange)
   */
  constructor(
    mechanism: ScramMechanism,
    credentialOf: (user: string) => ScramCredential | undefined,
    options: { serverNonce?: string } = {},
  ) {
    this.#mechanism = mechanism;
    this.#credentialOf = credentialOf;
    this.#serverNonce = options.serverNonce ?? base64(crypto.getRandomValues(new Uint8Array(18)));
  }

  /**
   * Takes the client's next message and answers it.
   *
   * @param message the client's SCRAM message (the `authBytes` of SaslAuthenticate)
   * @returns the server's message and, after the last step, the authenticated user
   * @throws {SaslAuthenticationError} (SASL_AUTHENTICATION_FAILED) for a malformed message, an
   *   unknown user, a wrong proof, or a step after the exchange ended
   */
  async step(message: Uint8Array): Promise<{ response: Uint8Array; principal?: string }> {
    let text: string;
    try {
      text = decoder.decode(message);
    } catch {
      throw failed("a SCRAM message is not UTF-8");
    }
    if (this.#state === "first") return this.#first(text);
    if (this.#state === "final") return await this.#final(text);
    throw failed("the SCRAM exchange has already ended");
  }

  #first(text: string): { response: Uint8Array } {
    // gs2-header: a channel-binding flag, an optional authzid, then the bare message.
    const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(text);
    if (!m) throw failed("channel binding is not supported, or the client-first message is malformed");
    const bare = attributes(m[3]);
    if (bare.length < 2 || bare[0][0] !== "n" || bare[1][0] !== "r" || bare[1][1] === "") {
      throw failed("the client-first message is malformed");
    }
    const user = saslName(bare[0][1]);
    const authzid = m[2] === undefined ? "" : saslName(m[2].slice(2));
    if (authzid !== "" && authzid !== user) {
      throw failed("an authorization ID different from the user name is not allowed");
    }
    const credential = this.#credentialOf(user);
    if (!credential) throw failed("invalid user credentials");
    this.#user = user;
    this.#credential = credential;
    this.#gs2Header = text.slice(0, text.length - m[3].length);
    this.#clientFirstBare = m[3];
    this.#nonce = bare[1][1] + this.#serverNonce;
    this.#serverFirst = `r=${this.#nonce},s=${base64(credential.salt)},i=${credential.iterations}`;
    this.#state = "final";
    return { response: encoder.encode(this.#serverFirst) };
  }

  async #final(text: string): Promise<{ response: Uint8Array; principal: string }> {
    this.#state = "done";
    const attrs = attributes(text);
    const proofAt = attrs.length - 1;
    if (attrs.length < 3 || attrs[0][0] !== "c" || attrs[1][0] !== "r" || attrs[proofAt][0] !== "p") {
      throw failed("the client-final message is malformed");
    }
    if (attrs[0][1] !== btoa(this.#gs2Header)) throw failed("the channel binding does not match");
    // RFC 5802 wants the combined nonce echoed exactly; librdkafka (2.0 at least) sends its own
    // nonce again in front of it, and Kafka's ScramSaslServer accepted that for years (`endsWith`).
    // The server's fresh part must still end it, and the proof covers the message as sent.
    if (!attrs[1][1].endsWith(this.#nonce)) throw failed("the nonce does not match");
    const withoutProof = text.slice(0, text.lastIndexOf(",p="));
    const authMessage = encoder.encode(`${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`);
    const credential = this.#credential!;
    const signature = await hmac(this.#mechanism, credential.storedKey, authMessage);
    let proof: Uint8Array;
    try {
      proof = fromBase64(attrs[proofAt][1]);
    } catch {
      throw failed("the client proof is not base64");
    }
    if (proof.length !== signature.length) throw failed("invalid user credentials");
    const clientKey = proof.map((b, i) => b ^ signature[i]);
    if (!equalBytes(await hash(this.#mechanism, clientKey), credential.storedKey)) {
      throw failed("invalid user credentials");
    }
    const serverSignature = await hmac(this.#mechanism, credential.serverKey, authMessage);
    return { response: encoder.encode(`v=${base64(serverSignature)}`), principal: this.#user };
  }
}
