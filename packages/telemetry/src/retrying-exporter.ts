import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';

/** What span and log exporters have in common. */
export interface BatchExporter<T> {
  export(items: T[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

export interface RetryOptions {
  /** Most items held while the receiver is away; a batch that does not fit is dropped (counted). */
  maxBufferedItems: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long shutdown() keeps trying to deliver what is buffered. */
  shutdownDrainMs?: number;
}

/**
 * The OTLP exporters retry a failed request only within their own timeout, and the SDK's batch
 * processors drop a batch whose export failed: a receiver that is down for a minute loses every
 * span of that minute. This exporter accepts each batch at once into a bounded in-memory buffer
 * and delivers the buffer in order, one request at a time, retrying a failed request with capped
 * exponential backoff until the receiver answers. Memory is bounded by `maxBufferedItems`; a
 * permanent rejection (HTTP 4xx other than 429) drops that batch instead of blocking the rest.
 * See docs/decisions.md ("No telemetry lost in a receiver outage").
 */
export class RetryingExporter<T> implements BatchExporter<T> {
  private readonly buffer: T[][] = [];
  private buffered = 0;
  private dropped = 0;
  private sending: Promise<void> | null = null;
  private stopped = false;
  /** Until shutdown: keep trying for ever (the buffer bound, not time, limits what is held). */
  private deadline = Number.POSITIVE_INFINITY;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly inner: BatchExporter<T>, private readonly opts: RetryOptions) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5_000;
  }

  /** Items waiting for the receiver, and items dropped because the buffer was full. */
  stats(): { buffered: number; dropped: number } {
    return { buffered: this.buffered, dropped: this.dropped };
  }

  export(items: T[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped || this.buffered + items.length > this.opts.maxBufferedItems) {
      this.dropped += items.length;
      diag.warn(`telemetry buffer full (${this.buffered} items waiting for the receiver): dropped ${items.length}, ${this.dropped} in total`);
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('telemetry buffer full') });
      return;
    }
    this.buffer.push(items);
    this.buffered += items.length;
    resultCallback({ code: ExportResultCode.SUCCESS });
    void this.startDrain();
  }

  private startDrain(): Promise<void> {
    this.sending ??= this.drain().finally(() => { this.sending = null; });
    return this.sending;
  }

  /** Sends until the buffer is empty (or, after shutdown(), its drain time is up). */
  private async drain(): Promise<void> {
    let backoff = this.initialBackoffMs;
    while (this.buffer.length > 0 && Date.now() < this.deadline) {
      const batch = this.buffer[0]!;
      const result = await new Promise<ExportResult>((resolve) => this.inner.export(batch, resolve));
      if (result.code === ExportResultCode.SUCCESS || isPermanent(result.error)) {
        if (result.code !== ExportResultCode.SUCCESS) diag.error(`telemetry batch rejected by the receiver, dropped: ${result.error?.message ?? ''}`);
        this.buffer.shift();
        this.buffered -= batch.length;
        backoff = this.initialBackoffMs;
        continue;
      }
      await sleepUnref(Math.min(backoff, Math.max(0, this.deadline - Date.now())));
      backoff = Math.min(backoff * 2, this.maxBackoffMs);
    }
  }

  async forceFlush(): Promise<void> {
    await this.sending;
    await this.inner.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    const drainMs = this.opts.shutdownDrainMs ?? 5_000;
    this.stopped = true;
    this.deadline = Date.now() + drainMs;
    // An export in flight may take up to the inner exporter's own timeout: do not wait past ours.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.startDrain(), new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs); })]);
    clearTimeout(timer);
    await this.inner.shutdown();
  }
}

function sleepUnref(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function isPermanent(error: Error | undefined): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && code >= 400 && code < 500 && code !== 408 && code !== 429;
}
