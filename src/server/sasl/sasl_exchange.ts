/**
 * SASL authentication of the broker's clients (KIP-43, KIP-152): the mechanisms it offers
 * (PLAIN, RFC 4616; SCRAM-SHA-256 and SCRAM-SHA-512, KIP-84) over a set of users and their
 * passwords, and one exchange per connection.
 *
 * @module
 */
import { SaslAuthenticationError } from "../../errors.ts";
import { type ScramCredential, scramCredential, type ScramMechanism, ScramServer } from "./scram.ts";

/** A SASL mechanism by the name Kafka's `sasl.mechanism` uses. */
export type SaslMechanism = "PLAIN" | ScramMechanism;

/** Every mechanism the broker can offer. */
export const SASL_MECHANISMS: readonly SaslMechanism[] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/** The server side of one SASL exchange: the client's messages in, the server's out. */
export interface SaslExchange {
  /**
   * Takes the client's next message.
   *
   * @returns the server's answer, and the authenticated user once the exchange has succeeded
   * @throws {SaslAuthenticationError} when authentication fails
   */
  step(message: Uint8Array): Promise<{ response: Uint8Array; principal?: string }>;
}

function equalText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * The server side of SASL/PLAIN (RFC 4616): one message, `authzid NUL user NUL password`.
 *
 * @example A right and a wrong password
 * ```ts
 * import assert from "node:assert/strict";
 * import { PlainServer } from "./sasl_exchange.ts";
 * import { SaslAuthenticationError } from "../../errors.ts";
 * const passwords = new Map([["alice", "alice-secret"]]);
 * const ok = await new PlainServer(passwords).step(new TextEncoder().encode("\0alice\0alice-secret"));
 * assert.equal(ok.principal, "alice");
 * await assert.rejects(
 *   new PlainServer(passwords).step(new TextEncoder().encode("\0alice\0guess")),
 *   SaslAuthenticationError,
 * );
 * ```
 */
export class PlainServer implements SaslExchange {
  readonly #passwords: ReadonlyMap<string, string>;
  #done = false;

  /**
   * Starts an exchange.
   *
   * @param passwords each user's password
   */
  constructor(passwords: ReadonlyMap<string, string>) {
    this.#passwords = passwords;
  }

  /**
   * Checks the client's one message.
   *
   * @param message `authzid NUL user NUL password`, UTF-8
   * @returns an empty answer and the user
   * @throws {SaslAuthenticationError} for a malformed message, an authorization ID other than the
   *   user, an unknown user or a wrong password
   */
  step(message: Uint8Array): Promise<{ response: Uint8Array; principal: string }> {
    if (this.#done) return Promise.reject(failed("the PLAIN exchange has already ended"));
    this.#done = true;
    let parts: string[];
    try {
      parts = new TextDecoder("utf-8", { fatal: true }).decode(message).split("\0");
    } catch {
      return Promise.reject(failed("the PLAIN message is not UTF-8"));
    }
    if (parts.length !== 3 || parts[1] === "") {
      return Promise.reject(failed("the PLAIN message is malformed: expected authzid NUL user NUL password"));
    }
    const [authzid, user, password] = parts;
    if (authzid !== "" && authzid !== user) {
      return Promise.reject(failed("an authorization ID different from the user name is not allowed"));
    }
    const expected = this.#passwords.get(user);
    // Compare against something even for an unknown user, so both take the same time.
    const matches = equalText(password, expected ?? "\0unknown user\0");
    if (expected === undefined || !matches) return Promise.reject(failed("invalid user credentials"));
    return Promise.resolve({ response: new Uint8Array(0), principal: user });
  }
}

function failed(why: string): SaslAuthenticationError {
  return new SaslAuthenticationError(`Authentication failed: ${why}`);
}

/**
 * The users a broker accepts and the mechanisms it offers them. SCRAM credentials are derived
 * once, when it is made; passwords are kept only for PLAIN.
 *
 * @example Offer SCRAM-SHA-512 only
 * ```ts
 * import assert from "node:assert/strict";
 * import { SaslAuthenticator } from "./sasl_exchange.ts";
 * const sasl = await SaslAuthenticator.create({ alice: "alice-secret" }, ["SCRAM-SHA-512"]);
 * assert.deepEqual(sasl.mechanisms, ["SCRAM-SHA-512"]);
 * assert.equal(sasl.start("PLAIN"), undefined);
 * assert.ok(sasl.start("SCRAM-SHA-512"));
 * ```
 */
export class SaslAuthenticator {
  readonly #passwords: Map<string, string>;
  readonly #scram: Map<ScramMechanism, Map<string, ScramCredential>>;
  /** The mechanisms offered, in the order given. */
  readonly mechanisms: readonly SaslMechanism[];

  private constructor(
    passwords: Map<string, string>,
    scram: Map<ScramMechanism, Map<string, ScramCredential>>,
    mechanisms: readonly SaslMechanism[],
  ) {
    this.#passwords = passwords;
    this.#scram = scram;
    this.mechanisms = mechanisms;
  }

  /**
   * Makes an authenticator for these users.
   *
   * @param users each user name and its password
   * @param mechanisms the mechanisms to offer; all three when absent
   * @returns the authenticator
   * @throws {TypeError} when a user name is empty or a password is not a non-empty string
   * @throws {RangeError} when `mechanisms` is empty or names one not in {@linkcode SASL_MECHANISMS}
   */
  static async create(
    users: Readonly<Record<string, string>>,
    mechanisms: readonly string[] = SASL_MECHANISMS,
  ): Promise<SaslAuthenticator> {
    if (mechanisms.length === 0) throw new RangeError("Invalid SASL mechanisms: expected at least one");
    for (const m of mechanisms) {
      if (!SASL_MECHANISMS.includes(m as SaslMechanism)) {
        throw new RangeError(
          `Invalid SASL mechanism ${JSON.stringify(m)}: expected ${SASL_MECHANISMS.join(", ")}`,
        );
      }
    }
    const passwords = new Map<string, string>();
    for (const [name, password] of Object.entries(users)) {
      if (name === "") throw new TypeError("Invalid SASL user: the name is empty");
      if (typeof password !== "string" || password === "") {
        throw new TypeError(
          `Invalid SASL user ${JSON.stringify(name)}: expected a non-empty password string`,
        );
      }
      passwords.set(name, password);
    }
    const scram = new Map<ScramMechanism, Map<string, ScramCredential>>();
    for (const m of mechanisms) {
      if (m === "PLAIN") continue;
      const credentials = new Map<string, ScramCredential>();
      for (const [name, password] of passwords) {
        credentials.set(name, await scramCredential(m as ScramMechanism, password));
      }
      scram.set(m as ScramMechanism, credentials);
    }
    return new SaslAuthenticator(
      mechanisms.includes("PLAIN") ? passwords : new Map(),
      scram,
      [...mechanisms] as SaslMechanism[],
    );
  }

  /**
   * Starts an exchange with a mechanism the client chose.
   *
   * @param mechanism the name from SaslHandshake
   * @returns the exchange, or `undefined` when the mechanism is not offered
   */
  start(mechanism: string): SaslExchange | undefined {
    if (!this.mechanisms.includes(mechanism as SaslMechanism)) return undefined;
    if (mechanism === "PLAIN") return new PlainServer(this.#passwords);
    const credentials = this.#scram.get(mechanism as ScramMechanism)!;
    return new ScramServer(mechanism as ScramMechanism, (user) => credentials.get(user));
  }
}
