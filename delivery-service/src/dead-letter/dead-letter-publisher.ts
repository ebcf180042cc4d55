import type { Producer } from 'kafkajs';
import { ACKS_ALL } from '@ca/kafka';
import { HEADERS, type DeadLetterRecord } from '@ca/contracts';
import { currentTraceHeaders } from '@ca/telemetry';

export interface DeadLetterPublisher {
  publish(record: DeadLetterRecord, traceHeaders?: Record<string, string>): Promise<void>;
}

/**
 * Publishes to the dead-letter topic and waits for all in-sync replicas. Runs before the status
 * is written, so a crash in between repeats the dead letter (consumers dedupe by x-message-id)
 * rather than losing it.
 */
export function createDeadLetterPublisher(producer: Producer, topic: string): DeadLetterPublisher {
  return {
    async publish(record, traceHeaders) {
      const current = currentTraceHeaders();
      const trace = Object.keys(current).length ? current : (traceHeaders ?? {});
      await producer.send({
        topic,
        acks: ACKS_ALL,
        messages: [
          {
            key: record.messageId ?? null,
            value: JSON.stringify(record),
            headers: {
              ...trace,
              [HEADERS.dlqReason]: record.reason,
              [HEADERS.dlqError]: record.error.slice(0, 1000),
              [HEADERS.dlqSourceTopic]: record.sourceTopic,
              ...(record.messageId ? { [HEADERS.messageId]: record.messageId } : {}),
              ...(record.channel ? { [HEADERS.channel]: record.channel } : {}),
            },
          },
        ],
      });
    },
  };
}
