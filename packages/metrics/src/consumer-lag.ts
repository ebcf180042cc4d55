import { metrics as otel, type BatchObservableResult, type Meter } from '@opentelemetry/api';
import { METER_NAME } from './router-metrics';

/** The two kafkajs admin calls lag needs (an `Admin` fits; tests pass a fake). */
export interface LagAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchTopicOffsets(topic: string): Promise<Array<{ partition: number; high: string; low: string }>>;
  fetchOffsets(opts: { groupId: string; topics: string[] }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

export interface LagGroup {
  groupId: string;
  topics: readonly string[];
}

export interface ConsumerLagDeps {
  meter?: Meter;
  admin: LagAdmin;
  groups: readonly LagGroup[];
  /** How often the offsets are read (ms); a scrape never calls the broker. */
  intervalMs: number;
  onError?: (err: unknown) => void;
}

export interface ConsumerLag {
  /** Reads the offsets now (start() does so at once, then every intervalMs). */
  poll(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Consumer lag per group and topic: Σ over partitions of (high watermark − committed offset); a
 * partition the group never committed counts from its low watermark (groups start from the
 * beginning). Offsets are read on an interval, not per scrape. When the broker does not answer
 * these admin calls (or answers an error), lag is unknown: the lag series of that group disappears
 * and `ca.kafka.consumer.lag.known` says 0, rather than a made-up 0 lag or a crash.
 */
export function observeConsumerLag(deps: ConsumerLagDeps): ConsumerLag {
  const meter = deps.meter ?? otel.getMeter(METER_NAME);
  const lagGauge = meter.createObservableGauge('ca.kafka.consumer.lag', {
    description: 'Records published to a topic that the consumer group has not committed yet',
    unit: '{record}',
  });
  const knownGauge = meter.createObservableGauge('ca.kafka.consumer.lag.known', {
    description: '1 when the last offset read of the group succeeded, 0 when its lag is unknown',
    unit: '1',
  });
  const lag = new Map<string, Map<string, number> | null>(deps.groups.map((g) => [g.groupId, null]));
  let connected = false;
  let stopped = false;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;

  async function readGroup(group: LagGroup): Promise<Map<string, number>> {
    const committed = await deps.admin.fetchOffsets({ groupId: group.groupId, topics: [...group.topics] });
    const byTopic = new Map<string, number>();
    for (const topic of group.topics) {
      const ends = await deps.admin.fetchTopicOffsets(topic);
      const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
      let sum = 0;
      for (const p of ends) {
        const high = Number(p.high);
        const at = Number(done.find((d) => d.partition === p.partition)?.offset ?? -1);
        const from = at >= 0 ? at : Number(p.low);
        if (Number.isFinite(high) && Number.isFinite(from)) sum += Math.max(0, high - from);
      }
      byTopic.set(topic, sum);
    }
    return byTopic;
  }

  async function pollOnce(): Promise<void> {
    if (stopped) return;
    try {
      if (!connected) {
        await deps.admin.connect();
        connected = true;
      }
    } catch (err) {
      for (const g of deps.groups) lag.set(g.groupId, null);
      deps.onError?.(err);
      return;
    }
    for (const group of deps.groups) {
      try {
        lag.set(group.groupId, await readGroup(group));
      } catch (err) {
        lag.set(group.groupId, null);
        deps.onError?.(err);
      }
    }
  }

  const poll = (): Promise<void> => {
    running ??= pollOnce().finally(() => { running = null; });
    return running;
  };

  const callback = (result: BatchObservableResult) => {
    for (const [groupId, topics] of lag) {
      result.observe(knownGauge, topics ? 1 : 0, { group: groupId });
      if (!topics) continue;
      for (const [topic, value] of topics) result.observe(lagGauge, value, { group: groupId, topic });
    }
  };
  meter.addBatchObservableCallback(callback, [lagGauge, knownGauge]);

  return {
    poll,
    start() {
      if (timer) return;
      void poll();
      timer = setInterval(() => void poll(), deps.intervalMs);
      timer.unref();
    },
    /** Does not wait for a read in flight (kafkajs retries for seconds against a dead broker): disconnecting ends it. */
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      meter.removeBatchObservableCallback(callback, [lagGauge, knownGauge]);
      await deps.admin.disconnect().catch(() => undefined);
      connected = false;
    },
  };
}
