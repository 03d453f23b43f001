# Drives kafka-python (PyPI) against a broker for tests/server/kafka_python_test.ts: create a topic,
# produce with gzip and acks=all, consume in a group and commit. Prints one JSON line per record.
# Usage: kafka_python_client.py BOOTSTRAP TOPIC GROUP COUNT
import json, sys
from kafka import KafkaConsumer, KafkaProducer, KafkaAdminClient
from kafka.admin import NewTopic

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic(name=topic, num_partitions=2, replication_factor=1)])
admin.close()
producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type="gzip")
for i in range(count):
    producer.send(topic, key=b"k%d" % i, value=b"v%d" % i, headers=[("n", str(i).encode())])
producer.flush()
producer.close()
consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                         enable_auto_commit=False, consumer_timeout_ms=10000)
seen = 0
for m in consumer:
    print(json.dumps({"key": m.key.decode(), "value": m.value.decode(), "n": dict(m.headers)["n"].decode()}), flush=True)
    seen += 1
    if seen == count:
        break
consumer.commit()
consumer.close()
