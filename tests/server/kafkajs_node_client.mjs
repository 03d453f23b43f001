// kafkajs on Node (a subprocess of tests/server/kafkajs_node_test.ts): produce COUNT records to
// TOPIC, then consume them in group GROUP and print one JSON line per record.
// Usage: node kafkajs_node_client.mjs BOOTSTRAP TOPIC GROUP COUNT
import { Kafka, logLevel } from "kafkajs";

const [bootstrap, topic, groupId, countText] = process.argv.slice(2);
const count = Number(countText);
const kafka = new Kafka({ clientId: "node", brokers: [bootstrap], logLevel: logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
await producer.send({
  topic,
  acks: -1,
  messages: Array.from(
    { length: count },
    (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { n: String(i) } }),
  ),
});
await producer.disconnect();
const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
let seen = 0;
await new Promise((resolve) => {
  consumer.run({
    eachMessage: ({ message }) => {
      const line = {
        key: message.key.toString(),
        value: message.value.toString(),
        n: message.headers.n.toString(),
      };
      process.stdout.write(JSON.stringify(line) + "\n");
      if (++seen === count) resolve();
      return Promise.resolve();
    },
  });
});
await consumer.disconnect();
