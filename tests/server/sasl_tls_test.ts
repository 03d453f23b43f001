// `reel serve` with TLS and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512): the broker's side of the
// handshake over raw frames, then clients none of us wrote: librdkafka through kcat on every
// listener kind (SSL, SASL_PLAINTEXT, SASL_SSL), and kafkajs over SASL_SSL in this process.
// The TLS certificate is tests/server/fixtures/localhost.cert.pem (self-signed for localhost and
// 127.0.0.1; its README says how it was made).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { Kafka, logLevel, type SASLOptions } from "kafkajs";
import { kcat, RawClient, withBroker } from "./_helpers.ts";
import type { ServeOptions } from "../../src/server/broker.ts";
import { scramCredential, ScramServer } from "../../src/server/sasl/scram.ts";
import { SaslAuthenticationError } from "../../mod.ts";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const CERT_PATH = path.join(FIXTURES, "localhost.cert.pem");
const TLS = {
  cert: fs.readFileSync(CERT_PATH, "utf8"),
  key: fs.readFileSync(path.join(FIXTURES, "localhost.key.pem"), "utf8"),
};
const USERS = { alice: "alice-secret", "bob,=x": "b0b=pass,word" };
const SASL: ServeOptions["sasl"] = { users: USERS };
const HAS_KCAT = spawnSync("kcat", ["-V"]).status === 0;
const bytes = (s: string) => new TextEncoder().encode(s);

describe("SASL on the wire (raw frames)", () => {
  test("before authenticating, ApiVersions answers and lists the SASL APIs; Metadata closes the connection", async () => {
    await withBroker(async (broker) => {
      const client = await RawClient.connect(broker.port);
      const versions = await client.request(18, 3, {
        clientSoftwareName: "t",
        clientSoftwareVersion: "1",
      }) as unknown as {
        errorCode: number;
        apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
      };
      assert.equal(versions.errorCode, 0);
      const range = (key: number) =>
        versions.apiKeys.filter((k) => k.apiKey === key).map((k) => [k.minVersion, k.maxVersion]);
      assert.deepEqual(range(17), [[0, 1]]);
      assert.deepEqual(range(36), [[0, 2]]);
      client.send(new Uint8Array(0)); // nothing: the broker must not answer an empty write
      await assert.rejects(client.request(3, 9, { topics: null, allowAutoTopicCreation: false }), /closed/);
      await client.whenClosed();
    }, { sasl: SASL });
  });

  test("PLAIN: a wrong password gets SASL_AUTHENTICATION_FAILED and a closed connection; the right one serves Metadata", async () => {
    await withBroker(async (broker, log) => {
      await log.createTopic("t");
      const wrong = await RawClient.connect(broker.port);
      assert.deepEqual(await wrong.request(17, 1, { mechanism: "PLAIN" }), {
        correlationId: 1,
        errorCode: 0,
        mechanisms: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"],
      });
      const failed = await wrong.request(36, 2, { authBytes: bytes("\0alice\0guess") }) as unknown as {
        errorCode: number;
        errorMessage: string;
      };
      assert.equal(failed.errorCode, 58);
      assert.match(failed.errorMessage, /invalid user credentials/);
      assert.doesNotMatch(failed.errorMessage, /password/, "the message must not say which part was wrong");
      await wrong.whenClosed();

      const right = await RawClient.connect(broker.port);
      await right.request(17, 1, { mechanism: "PLAIN" });
      const ok = await right.request(36, 1, { authBytes: bytes("\0alice\0alice-secret") }) as unknown as {
        errorCode: number;
      };
      assert.equal(ok.errorCode, 0);
      const metadata = await right.request(3, 9, {
        topics: null,
        allowAutoTopicCreation: false,
      }) as unknown as {
        topics: { name: string }[];
      };
      assert.deepEqual(metadata.topics.map((t) => t.name), ["t"]);
      // A second handshake on an authenticated connection is illegal, as in Kafka.
      const again = await right.request(17, 1, { mechanism: "PLAIN" }) as unknown as { errorCode: number };
      assert.equal(again.errorCode, 34);
      right.close();
    }, { sasl: SASL });
  });

  test("a mechanism the broker does not offer gets UNSUPPORTED_SASL_MECHANISM with the offered ones", async () => {
    await withBroker(async (broker) => {
      const client = await RawClient.connect(broker.port);
      const response = await client.request(17, 1, { mechanism: "PLAIN" }) as unknown as {
        errorCode: number;
        mechanisms: string[];
      };
      assert.deepEqual([response.errorCode, response.mechanisms], [33, ["SCRAM-SHA-512"]]);
      await client.whenClosed();
    }, { sasl: { users: USERS, mechanisms: ["SCRAM-SHA-512"] } });
  });

  test("without SASL, SaslHandshake is an illegal state and every other API is served", async () => {
    await withBroker(async (broker) => {
      const client = await RawClient.connect(broker.port);
      const response = await client.request(17, 1, { mechanism: "PLAIN" }) as unknown as {
        errorCode: number;
      };
      assert.equal(response.errorCode, 34);
      const metadata = await client.request(3, 9, {
        topics: null,
        allowAutoTopicCreation: false,
      }) as unknown as {
        topics: unknown[];
      };
      assert.deepEqual(metadata.topics, []);
      client.close();
    });
  });
});

describe("kcat (librdkafka) over TLS and SASL", { skip: !HAS_KCAT }, () => {
  const cases: { name: string; options: ServeOptions; config: string[] }[] = [
    { name: "SSL", options: { tls: TLS }, config: ["security.protocol=ssl", `ssl.ca.location=${CERT_PATH}`] },
    {
      name: "SASL_PLAINTEXT with PLAIN",
      options: { sasl: SASL },
      config: [
        "security.protocol=sasl_plaintext",
        "sasl.mechanisms=PLAIN",
        "sasl.username=alice",
        "sasl.password=alice-secret",
      ],
    },
    {
      name: "SASL_PLAINTEXT with SCRAM-SHA-256 (a user name with ',' and '=')",
      options: { sasl: SASL },
      config: [
        "security.protocol=sasl_plaintext",
        "sasl.mechanisms=SCRAM-SHA-256",
        "sasl.username=bob,=x",
        "sasl.password=b0b=pass,word",
      ],
    },
    {
      name: "SASL_SSL with SCRAM-SHA-512",
      options: { sasl: SASL, tls: TLS },
      config: [
        "security.protocol=sasl_ssl",
        `ssl.ca.location=${CERT_PATH}`,
        "sasl.mechanisms=SCRAM-SHA-512",
        "sasl.username=alice",
        "sasl.password=alice-secret",
      ],
    },
  ];
  for (const { name, options, config } of cases) {
    test(`${name}: produce and consume`, async () => {
      await withBroker(async (broker, log) => {
        const x = config.flatMap((c) => ["-X", c]);
        const lines = Array.from({ length: 20 }, (_, i) => `k${i % 4}:v${i}`);
        const produced = await kcat(
          ["-b", broker.address, ...x, "-P", "-t", "s", "-K:"],
          lines.join("\n") + "\n",
        );
        assert.equal(produced.status, 0, produced.stderr);
        const got = [];
        for await (const r of log.topic("s").readable()) {
          got.push(`${new TextDecoder().decode(r.key!)}:${new TextDecoder().decode(r.value!)}`);
        }
        assert.deepEqual(got, lines);
        const consumed = await kcat(["-b", broker.address, ...x, "-C", "-t", "s", "-e", "-f", "%k:%s\\n"]);
        assert.equal(consumed.status, 0, consumed.stderr);
        assert.deepEqual(consumed.stdout.trim().split("\n"), lines);
      }, options);
    });
  }

  test("SCRAM-SHA-256 with a wrong password: kcat fails with an authentication error and nothing is appended", async () => {
    await withBroker(async (broker, log) => {
      await log.createTopic("s");
      const res = await kcat([
        "-b",
        broker.address,
        ...["security.protocol=sasl_plaintext", "sasl.mechanisms=SCRAM-SHA-256", "sasl.username=alice"]
          .flatMap((c) => ["-X", c]),
        "-X",
        "sasl.password=wrong",
        "-P",
        "-t",
        "s",
        "-m",
        "5",
      ], "x\n");
      assert.notEqual(res.status, 0);
      assert.match(res.stderr, /[Aa]uthentication failed/);
      assert.equal(log.topic("s").describe()[0].logEndOffset, 0);
    }, { sasl: SASL });
  });
});

describe("kafkajs over SASL_SSL", () => {
  for (const mechanism of ["plain", "scram-sha-256", "scram-sha-512"] as const) {
    test(`${mechanism}: produce, then the admin client reads the offsets`, async () => {
      await withBroker(async (broker, log) => {
        const kafka = new Kafka({
          clientId: "t",
          brokers: [broker.address],
          ssl: { ca: [TLS.cert], servername: "localhost" },
          sasl: { mechanism, username: "alice", password: "alice-secret" } as SASLOptions,
          logLevel: logLevel.NOTHING,
        });
        const producer = kafka.producer();
        await producer.connect();
        await producer.send({ topic: "k", messages: [{ key: "a", value: "1" }, { key: "b", value: "2" }] });
        await producer.disconnect();
        const values = [];
        for await (const r of log.topic("k").readable()) values.push(new TextDecoder().decode(r.value!));
        assert.deepEqual(values, ["1", "2"]);

        const admin = kafka.admin();
        await admin.connect();
        const offsets = await admin.fetchTopicOffsets("k");
        await admin.disconnect();
        assert.deepEqual(offsets.map((o) => o.high), ["2"]);
      }, { sasl: SASL, tls: TLS });
    });
  }

  test("a wrong password is refused with kafkajs's authentication error", async () => {
    await withBroker(async (broker) => {
      const kafka = new Kafka({
        clientId: "t",
        brokers: [broker.address],
        ssl: { ca: [TLS.cert], servername: "localhost" },
        sasl: { mechanism: "scram-sha-512", username: "alice", password: "nope" },
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
      const admin = kafka.admin();
      await assert.rejects(
        admin.connect(),
        (err: Error) => /SASL|[Aa]uthentication/.test(`${err.name} ${err.message}`),
      );
      await admin.disconnect();
    }, { sasl: SASL, tls: TLS });
  });
});

describe("SCRAM server: tampered exchanges are refused (RFC 7677's exchange as the base)", () => {
  const salt = Uint8Array.from(atob("W22ZaJ0SNY7soEsUEjb6gQ=="), (c) => c.charCodeAt(0));
  const clientNonce = "rOprNGfwEbeRWgbNEkqO";
  const serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const proof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  async function exchange(clientFirst: string, clientFinal: string): Promise<string> {
    const credential = await scramCredential("SCRAM-SHA-256", "pencil", { salt });
    const server = new ScramServer("SCRAM-SHA-256", (u) => u === "user" ? credential : undefined, {
      serverNonce,
    });
    await server.step(bytes(clientFirst));
    return new TextDecoder().decode((await server.step(bytes(clientFinal))).response);
  }
  const first = `n,,n=user,r=${clientNonce}`;
  const final = (nonce: string, p: string, binding = "biws") => `c=${binding},r=${nonce},p=${p}`;

  test("the published exchange passes", async () => {
    assert.equal(
      await exchange(first, final(clientNonce + serverNonce, proof)),
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
    );
  });

  test("any one changed character of the proof is refused", async () => {
    for (let i = 0; i < proof.length - 1; i++) {
      const c = proof[i] === "A" ? "B" : "A";
      const tampered = proof.slice(0, i) + c + proof.slice(i + 1);
      await assert.rejects(
        exchange(first, final(clientNonce + serverNonce, tampered)),
        SaslAuthenticationError,
      );
    }
  });

  test("a nonce without the server's part, a wrong channel binding, an unknown user, a second final", async () => {
    await assert.rejects(exchange(first, final(clientNonce + "x", proof)), /nonce does not match/);
    await assert.rejects(exchange(first, final(clientNonce + serverNonce, proof, "eSws")), /channel binding/);
    await assert.rejects(
      exchange("n,,n=mallory,r=abc", final("abc" + serverNonce, proof)),
      /invalid user credentials/,
    );
    await assert.rejects(exchange("p=tls-unique,,n=user,r=abc", ""), /channel binding is not supported/);
    const credential = await scramCredential("SCRAM-SHA-256", "pencil", { salt });
    const server = new ScramServer("SCRAM-SHA-256", () => credential, { serverNonce });
    await server.step(bytes(first));
    await server.step(bytes(final(clientNonce + serverNonce, proof)));
    await assert.rejects(server.step(bytes(final(clientNonce + serverNonce, proof))), /already ended/);
  });
});
