// reel's interop Java client: a KafkaProducer and a KafkaConsumer driven by the tests through
// tests/interop/kafka/harness.ts (javaProduce, javaConsume). Compiled by the harness with javac.
//
//   java ReelInterop produce <bootstrap> <topic> [config=value ...]   < script
//     Script lines (tab-separated; bytes as lowercase hex, "-" for null, "=" for empty, "~" no headers):
//       send <partition|-1> <timestamp|-1> <key> <value> <hexHeaderKey:value,...|~>
//       begin | commit | abort | flush
//     With transactional.id set, initTransactions() runs first. abort flushes first, so the aborted
//     records are in the log (what a reader must skip). Prints "ack <partition> <offset>" per send,
//     in order (-1 -1 for a send that failed, e.g. aborted before it was sent).
//
//   java ReelInterop consume <bootstrap> <topic[,topic...]> <read_committed|read_uncommitted> [config=value ...]
//     Assigns every partition of each topic, reads from the beginning to the end offsets (the last
//     stable offset under read_committed) and prints "record <topic> <partition> <offset> <timestamp>
//     <key> <value> <headers>" per record, topics in the order given, partitions in order.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class ReelInterop {
  public static void main(String[] args) throws Exception {
    if (args.length < 3) throw new IllegalArgumentException("usage: produce|consume <bootstrap> <topic> ...");
    switch (args[0]) {
      case "produce":
        produce(args[1], args[2], configs(args, 3));
        break;
      case "consume":
        consume(args[1], args[2], args[3], configs(args, 4));
        break;
      default:
        throw new IllegalArgumentException("unknown command " + args[0]);
    }
  }

  static Properties configs(String[] args, int from) {
    Properties props = new Properties();
    for (int i = from; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    return props;
  }

  static void produce(String bootstrap, String topic, Properties extra) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("key.serializer", ByteArraySerializer.class.getName());
    props.put("value.serializer", ByteArraySerializer.class.getName());
    props.putAll(extra);
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      if (props.containsKey("transactional.id")) producer.initTransactions();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isEmpty()) continue;
        String[] f = line.split("\t", -1);
        switch (f[0]) {
          case "send": {
            int partition = Integer.parseInt(f[1]);
            long timestamp = Long.parseLong(f[2]);
            List<Header> headers = new ArrayList<>();
            if (!f[5].equals("~")) {
              for (String h : f[5].split(",")) {
                String[] kv = h.split(":", 2);
                headers.add(new RecordHeader(new String(bytes(kv[0]), StandardCharsets.UTF_8), bytes(kv[1])));
              }
            }
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(
                topic, partition < 0 ? null : partition, timestamp < 0 ? null : timestamp, bytes(f[3]), bytes(f[4]),
                headers);
            sent.add(producer.send(record));
            break;
          }
          case "begin":
            producer.beginTransaction();
            break;
          case "commit":
            producer.commitTransaction();
            break;
          case "abort":
            producer.flush();
            producer.abortTransaction();
            break;
          case "flush":
            producer.flush();
            break;
          default:
            throw new IllegalArgumentException("unknown step " + f[0]);
        }
      }
      producer.flush();
    }
    StringBuilder out = new StringBuilder();
    for (Future<RecordMetadata> f : sent) {
      try {
        RecordMetadata m = f.get();
        out.append("ack\t").append(m.partition()).append('\t').append(m.offset()).append('\n');
      } catch (Exception e) {
        out.append("ack\t-1\t-1\n");
      }
    }
    System.out.print(out);
    System.out.flush();
  }

  static void consume(String bootstrap, String topic, String isolation, Properties extra) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("key.deserializer", ByteArrayDeserializer.class.getName());
    props.put("value.deserializer", ByteArrayDeserializer.class.getName());
    props.put("isolation.level", isolation);
    props.put("enable.auto.commit", "false");
    props.put("auto.offset.reset", "earliest");
    props.putAll(extra);
    Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> byPartition = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String name : topic.split(",")) {
        List<TopicPartition> ofTopic = new ArrayList<>();
        for (PartitionInfo p : consumer.partitionsFor(name, Duration.ofSeconds(60))) {
          ofTopic.add(new TopicPartition(name, p.partition()));
        }
        ofTopic.sort(Comparator.comparingInt(TopicPartition::partition));
        partitions.addAll(ofTopic);
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(60));
      long deadline = System.currentTimeMillis() + 120_000;
      while (!caughtUp(consumer, end)) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("did not reach " + end);
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          byPartition.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new ArrayList<>()).add(r);
        }
      }
      StringBuilder out = new StringBuilder();
      for (TopicPartition tp : partitions) {
        for (ConsumerRecord<byte[], byte[]> r : byPartition.getOrDefault(tp, List.of())) {
          out.append("record\t").append(r.topic()).append('\t').append(r.partition()).append('\t').append(r.offset()).append('\t')
              .append(r.timestamp()).append('\t').append(hex(r.key())).append('\t').append(hex(r.value()))
              .append('\t');
          Header[] headers = r.headers().toArray();
          if (headers.length == 0) out.append('~');
          for (int i = 0; i < headers.length; i++) {
            if (i > 0) out.append(',');
            out.append(hex(headers[i].key().getBytes(StandardCharsets.UTF_8))).append(':')
                .append(hex(headers[i].value()));
          }
          out.append('\n');
        }
      }
      System.out.print(out);
      System.out.flush();
    }
  }

  static boolean caughtUp(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) return false;
    }
    return true;
  }

  static byte[] bytes(String hex) {
    if (hex.equals("-")) return null;
    if (hex.equals("=")) return new byte[0];
    byte[] out = new byte[hex.length() / 2];
    for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    return out;
  }

  static String hex(byte[] bytes) {
    if (bytes == null) return "-";
    if (bytes.length == 0) return "=";
    StringBuilder out = new StringBuilder(bytes.length * 2);
    for (byte b : bytes) out.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    return out.toString();
  }
}
