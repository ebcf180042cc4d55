export { createOutboxTable, OUTBOX_TABLE } from './outbox-table';
export { buildHeaders, enqueue, oldestDueOutboxRow, outboxBacklog, type OutboxRecord } from './enqueue';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayDeps } from './outbox-relay';
export { claimRows, nextDueAt, type ClaimedRow } from './claim-store';
