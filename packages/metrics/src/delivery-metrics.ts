import { metrics as otel } from '@opentelemetry/api';
import { METER_NAME, type InstrumentOptions } from './router-metrics';
import { createTenantLabel, DEFAULT_TENANT_LABEL_LIMIT } from './tenant-label';

/** What the worker knows about a message when its attempt ends. */
export interface DeliveryEvent {
  channel: string;
  provider: string;
  tenantId?: string | null;
  /** The attempt number that ended (1-based). */
  attempts: number;
}

export interface FinishedEvent extends DeliveryEvent {
  /** When router-service accepted the message (the record's createdAt, ISO text). */
  acceptedAt: string;
  /** When this attempt's outcome was committed. */
  at: Date;
}

export interface DeliveryMetrics {
  recordSent(e: FinishedEvent): void;
  /** A permanent failure: status failed, dead-letter record with reason permanent_failure. */
  recordFailed(e: FinishedEvent): void;
  /** Retries exhausted: status dead_lettered. */
  recordDeadLettered(e: FinishedEvent): void;
  /** A retry scheduled: after a transient failure, or when the provider asked to wait (rate_limited, no attempt used). */
  recordRetried(e: DeliveryEvent & { reason: 'transient_failure' | 'rate_limited' }): void;
  /** A record that could not become a message (unparseable, or refused by PostgreSQL), dead-lettered. */
  recordMalformed(e: { channel: string }): void;
}

/** Seconds from accept to sent: 50 ms … 10 min (a retried message waits minutes of backoff). */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const ATTEMPT_BUCKETS = [1, 2, 3, 4, 5, 6, 8, 10];

export function createDeliveryMetrics(opts: InstrumentOptions = {}): DeliveryMetrics {
  const meter = opts.meter ?? otel.getMeter(METER_NAME);
  const tenant = createTenantLabel(opts.tenantLabelLimit ?? DEFAULT_TENANT_LABEL_LIMIT);
  const finished = meter.createCounter('ca.delivery.messages', {
    description: 'Messages that reached a final status, by outcome (sent | failed | dead_lettered)',
    unit: '{message}',
  });
  const retries = meter.createCounter('ca.delivery.retries', {
    description: 'Retries scheduled, by reason (transient_failure | rate_limited)',
    unit: '{retry}',
  });
  const malformed = meter.createCounter('ca.delivery.malformed_records', {
    description: 'Records that could not become a message, dead-lettered with reason malformed_record',
    unit: '{record}',
  });
  const latency = meter.createHistogram('ca.delivery.accept_to_sent.duration', {
    description: 'From router-service accepting a message to its sent outcome being committed',
    unit: 's',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
  });
  const attempts = meter.createHistogram('ca.delivery.message.attempts', {
    description: 'Attempts a message took to reach its final status',
    unit: '{attempt}',
    advice: { explicitBucketBoundaries: ATTEMPT_BUCKETS },
  });

  function final(outcome: 'sent' | 'failed' | 'dead_lettered', e: FinishedEvent): void {
    finished.add(1, { channel: e.channel, provider: e.provider, tenant: tenant(e.tenantId), outcome });
    attempts.record(e.attempts, { channel: e.channel, provider: e.provider, outcome });
  }

  return {
    recordSent(e) {
      final('sent', e);
      const seconds = (e.at.getTime() - Date.parse(e.acceptedAt)) / 1000;
      // A clock behind router-service's can make it negative; such a sample says nothing.
      if (Number.isFinite(seconds) && seconds >= 0) latency.record(seconds, { channel: e.channel, provider: e.provider });
    },
    recordFailed: (e) => final('failed', e),
    recordDeadLettered: (e) => final('dead_lettered', e),
    recordRetried(e) {
      retries.add(1, { channel: e.channel, provider: e.provider, tenant: tenant(e.tenantId), reason: e.reason });
    },
    recordMalformed(e) {
      malformed.add(1, { channel: e.channel });
    },
  };
}
