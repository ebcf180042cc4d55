#!/bin/sh
# Creates every topic listed in infra/topics.json with the Kafka image's own kafka-topics.sh.
# Run by the `kafka-init` one-shot service in docker-compose.yml; safe to run again (idempotent):
# existing topics keep their data, get more partitions if the file asks for more (never fewer:
# Kafka cannot shrink a topic) and get the file's retention.
#
# Settings (environment):
#   KAFKA_BOOTSTRAP           broker to talk to                  default kafka:9092
#   TOPICS_FILE               topic list                         default /infra/topics.json
#   KAFKA_TOPIC_PREFIX        prepended to every name            default "" (same as the services)
#   TOPIC_PARTITIONS          overrides every topic's partitions  default: per topic from the file
#   TOPIC_REPLICATION_FACTOR  overrides every replication factor  default: per topic from the file
#   KAFKA_BIN                 where kafka-topics.sh lives        default /opt/kafka/bin
#   WAIT_SECONDS              how long to wait for the broker    default 60
set -eu

BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
TOPICS_FILE="${TOPICS_FILE:-/infra/topics.json}"
PREFIX="${KAFKA_TOPIC_PREFIX:-}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
WAIT_SECONDS="${WAIT_SECONDS:-60}"
TOPICS="$KAFKA_BIN/kafka-topics.sh"
CONFIGS="$KAFKA_BIN/kafka-configs.sh"

[ -r "$TOPICS_FILE" ] || { echo "create-topics: cannot read $TOPICS_FILE" >&2; exit 1; }

# The broker's healthcheck passed, but the controller may still be electing: retry until it answers.
waited=0
until "$TOPICS" --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1; do
  waited=$((waited + 2))
  if [ "$waited" -ge "$WAIT_SECONDS" ]; then
    echo "create-topics: broker $BOOTSTRAP not reachable after ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 2
done

# topics.json holds one flat JSON object per topic; the image has no jq, so pull fields with sed.
str_field() { printf '%s' "$2" | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"; }
num_field() { printf '%s' "$2" | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p"; }

objects=$(tr -d '\r\n' < "$TOPICS_FILE" | grep -o '{[^{}]*"name"[^{}]*}' || true)
[ -n "$objects" ] || { echo "create-topics: no topics found in $TOPICS_FILE" >&2; exit 1; }

count=0
# A here-document (not a pipe) keeps the loop in this shell, so `exit 1` inside it stops the script.
while IFS= read -r obj; do
  [ -n "$obj" ] || continue
  name="$PREFIX$(str_field name "$obj")"
  partitions="${TOPIC_PARTITIONS:-$(num_field partitions "$obj")}"
  replication="${TOPIC_REPLICATION_FACTOR:-$(num_field replicationFactor "$obj")}"
  retention="$(num_field retentionMs "$obj")"
  if [ "$name" = "$PREFIX" ] || [ -z "$partitions" ] || [ -z "$replication" ]; then
    echo "create-topics: incomplete entry: $obj" >&2
    exit 1
  fi

  # With acks=all, min.insync.replicas decides how many copies a write needs; 1 on a single broker.
  min_isr=1
  [ "$replication" -ge 3 ] && min_isr=2
  set -- --config "min.insync.replicas=$min_isr"
  [ -n "$retention" ] && set -- "$@" --config "retention.ms=$retention"

  current=$("$TOPICS" --bootstrap-server "$BOOTSTRAP" --describe --topic "$name" 2>/dev/null \
    | sed -n 's/.*PartitionCount:[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1 || true)
  if [ -z "$current" ]; then
    "$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$name" \
      --partitions "$partitions" --replication-factor "$replication" "$@"
    echo "create-topics: created $name partitions=$partitions replication=$replication"
  else
    if [ "$current" -lt "$partitions" ]; then
      # More partitions re-map keys: a recipient's in-flight messages may briefly lose their order.
      "$TOPICS" --bootstrap-server "$BOOTSTRAP" --alter --topic "$name" --partitions "$partitions"
      echo "create-topics: $name partitions $current -> $partitions"
    elif [ "$current" -gt "$partitions" ]; then
      echo "create-topics: $name has $current partitions, file asks $partitions; Kafka cannot shrink, left as is" >&2
    fi
    if [ -n "$retention" ]; then
      "$CONFIGS" --bootstrap-server "$BOOTSTRAP" --alter --entity-type topics --entity-name "$name" \
        --add-config "retention.ms=$retention,min.insync.replicas=$min_isr" >/dev/null
    fi
    echo "create-topics: $name exists (partitions=$(( current > partitions ? current : partitions )))"
  fi
  count=$((count + 1))
done <<TOPIC_LIST
$objects
TOPIC_LIST

echo "create-topics: $count topics ready on $BOOTSTRAP"
