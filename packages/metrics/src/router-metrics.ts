import { metrics as otel, type Meter } from '@opentelemetry/api';
import { createTenantLabel, DEFAULT_TENANT_LABEL_LIMIT } from './tenant-label';

export const METER_NAME = '@ca/metrics';

export interface RouterMetrics {
  /** One message accepted (202, not a replay): durable in PostgreSQL with its outbox row. */
  recordAccepted(e: { channel: string; tenantId?: string | null }): void;
}

export interface InstrumentOptions {
  /** Default: the global meter (a no-op until startTelemetry registers readers). */
  meter?: Meter;
  tenantLabelLimit?: number;
}

export function createRouterMetrics(opts: InstrumentOptions = {}): RouterMetrics {
  const meter = opts.meter ?? otel.getMeter(METER_NAME);
  const tenant = createTenantLabel(opts.tenantLabelLimit ?? DEFAULT_TENANT_LABEL_LIMIT);
  const accepted = meter.createCounter('ca.router.messages.accepted', {
    description: 'Messages accepted by POST /v1/messages (202 for a new message; replays are not counted)',
    unit: '{message}',
  });
  return {
    recordAccepted(e) {
      accepted.add(1, { channel: e.channel, tenant: tenant(e.tenantId) });
    },
  };
}
