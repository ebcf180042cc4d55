import { Kafka, logLevel, type IHeaders, type KafkaConfig, type Producer } from 'kafkajs';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  /** Connection/request timeouts in ms; short values make an unreachable broker fail fast. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  log?: (level: string, message: string, extra: Record<string, unknown>) => void;
}

const LEVEL: Record<number, string> = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug' };

export function createKafka(opts: KafkaOptions): Kafka {
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: opts.connectionTimeoutMs ?? 3000,
    requestTimeout: opts.requestTimeoutMs ?? 10_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log }) => {
      const { message, ...extra } = log;
      opts.log?.(LEVEL[level] ?? 'info', String(message), extra);
    },
  };
  return new Kafka(config);
}

/**
 * A producer that waits for all in-sync replicas (acks=-1) on every send: a send that resolves
 * means the record is durable. Not the idempotent producer: duplicates are handled downstream by
 * the delivery ledger, and the idempotent producer needs a controller some brokers don't offer.
 */
export function createDurableProducer(kafka: Kafka): Producer {
  return kafka.producer({ allowAutoTopicCreation: true, idempotent: false, maxInFlightRequests: 5 });
}

export const ACKS_ALL = -1;

/** Kafka headers arrive as Buffers (or arrays of them); this flattens them to strings. */
export function headersToRecord(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined || first === null) continue;
    out[key] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}
