import { spawn, type ChildProcess } from 'node:child_process';

export interface MockBroker {
  /** host:port of the broker, for KAFKA_BROKERS. */
  brokers: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a local Kafka-protocol broker: librdkafka's mock cluster, embedded in Debian's `kcat`.
 * kcat runs a consumer on a keepalive topic, which keeps the in-memory cluster alive; it logs
 * "... replaced with 127.0.0.1:PORT" and that address is the broker. Everything is in memory and
 * dies with the process. Used by `npm start` and `npm test` when KAFKA_BROKERS is unset; real
 * Kafka (docker-compose) needs none of this.
 */
export function startMockBroker(opts: { kcatPath?: string; timeoutMs?: number } = {}): Promise<MockBroker> {
  const child = spawn(opts.kcatPath ?? 'kcat', ['-X', 'test.mock.num.brokers=1', '-b', 'localhost:9092', '-C', '-t', 'keepalive', '-d', 'broker'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('kcat mock broker did not report its address in time'));
    }, opts.timeoutMs ?? 10_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start kcat (apt-get install kcat): ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kcat exited with code ${code} before the broker was ready`));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (buffered === null) return;
      buffered += chunk.toString();
      const match = /replaced with (127\.0\.0\.1:\d+)/.exec(buffered);
      if (!match) {
        if (buffered.length > 65_536) buffered = buffered.slice(-4096);
        return;
      }
      clearTimeout(timer);
      child.removeAllListeners('exit');
      // Keep draining stderr (debug logging is chatty) so kcat never blocks on a full pipe.
      child.stderr!.removeAllListeners('data');
      child.stderr!.resume();
      resolve({
        brokers: match[1]!,
        process: child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
