import { metrics as otel, type Meter } from '@opentelemetry/api';
import type { Channel } from '@ca/contracts';
import { METER_NAME } from '@ca/metrics';
import type { Logger } from '@ca/telemetry';
import type { Provider, Providers } from '../providers/provider';
import { createBreaker, type BreakerSettings, type ProviderBreaker } from './circuit-breakers';
import { credentialsAad, type ProviderConfig, type ProviderConfigStore, type RouteMode } from './provider-configs';
import type { CredentialCipher } from './credential-cipher';
import { buildProvider } from './provider-factory';
import { createProviderHealth, orderCandidates, type HealthSettings, type ProviderHealth } from './provider-health';

/** One provider the dispatcher may try, with its circuit and health. */
export interface Candidate {
  /** The name stored in the ledger's pin; unique within the tenant's channel. */
  name: string;
  provider: Provider;
  breaker: ProviderBreaker;
  health: ProviderHealth;
  weight: number;
}

export interface Route {
  candidates: Candidate[];
  /** true: the tenant configured this channel (more than the one default provider may be in play). */
  routed: boolean;
  mode: RouteMode;
}

export interface ProviderRouting {
  /** The providers to try for a message, best first. */
  route(tenantId: string | undefined, channel: Channel): Promise<Route>;
  /** Every breaker's current state (for metrics and the status API). */
  states(): Array<{ key: string; state: string }>;
  close(): void;
}

export interface ProviderRoutingDeps {
  configs: ProviderConfigStore;
  cipher: CredentialCipher | null;
  defaults: Providers;
  breaker: BreakerSettings;
  /** Whether the channels' built-in default providers get a live circuit breaker too (default: no). */
  breakDefaults?: boolean;
  health?: HealthSettings;
  /** How long a tenant's route is used before it is read again (config changes apply after it). */
  cacheMs: number;
  clock: { now(): Date };
  random: () => number;
  logger: Logger;
  /** Where the circuit metrics go (default: the global meter). */
  meter?: Meter;
}

const STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

interface Slot {
  version: string;
  candidate: Candidate;
}

function unusable(name: string): Provider {
  return { name, send: async () => ({ ok: false, retryable: true, notAccepted: true, reason: 'provider credentials cannot be opened' }) };
}

export function createProviderRouting(deps: ProviderRoutingDeps): ProviderRouting {
  const slots = new Map<string, Slot>();
  const routeCache = new Map<string, { at: number; configs: ProviderConfig[] }>();
  // Circuit state per provider as a gauge (0 closed, 1 half-open, 2 open) and its transitions as a counter.
  const meter = deps.meter ?? otel.getMeter(METER_NAME);
  const transitions = meter.createCounter('ca.provider.circuit.transitions', { description: 'Circuit breaker state changes, by provider and new state', unit: '{transition}' });
  const gauge = meter.createObservableGauge('ca.provider.circuit.state', { description: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open', unit: '{state}' });
  const labels = (key: string) => {
    const [tenant, channel, provider] = key.split('/');
    return { tenant: tenant ?? '', channel: channel ?? '', provider: provider ?? '' };
  };
  const observe = (result: import('@opentelemetry/api').ObservableResult) => {
    for (const [key, slot] of slots) result.observe(STATE_VALUE[slot.candidate.breaker.state()], labels(key));
  };
  gauge.addCallback(observe);

  function slotFor(key: string, version: string, make: () => Provider, weight: number, breakerSettings: BreakerSettings = deps.breaker): Candidate {
    const existing = slots.get(key);
    if (existing && existing.version === version) {
      existing.candidate.weight = weight;
      return existing.candidate;
    }
    // Health and circuit survive a config edit (same provider key); the adapter is rebuilt.
    const breaker = existing?.candidate.breaker ?? createBreaker(key, breakerSettings);
    if (!existing) {
      breaker.onStateChange((state) => {
        transitions.add(1, { ...labels(key), state });
        deps.logger.warn('provider circuit changed state', { provider: key, state });
      });
    }
    const candidate: Candidate = { name: key.split('/').pop()!, provider: make(), breaker, health: existing?.candidate.health ?? createProviderHealth(deps.health), weight };
    slots.set(key, { version, candidate });
    return candidate;
  }

  async function configsFor(tenantId: string, channel: Channel): Promise<ProviderConfig[]> {
    const key = `${tenantId}/${channel}`;
    const now = deps.clock.now().getTime();
    const hit = routeCache.get(key);
    if (hit && now - hit.at < deps.cacheMs) return hit.configs;
    const configs = await deps.configs.route(tenantId, channel);
    routeCache.set(key, { at: now, configs });
    return configs;
  }

  return {
    async route(tenantId, channel) {
      const configs = tenantId ? await configsFor(tenantId, channel) : [];
      if (configs.length === 0) {
        const provider = deps.defaults[channel];
        return { candidates: [slotFor(`default/${channel}/${provider.name}`, 'default', () => provider, 1, { ...deps.breaker, enabled: deps.breakDefaults ?? false })], routed: false, mode: 'ordered' };
      }
      const candidates = configs.map((c) => slotFor(`${tenantId}/${channel}/${c.name}`, `${c.kind}@${c.updatedAt.getTime()}`, () => {
        let credentials: Record<string, string> = {};
        if (c.credentialsSealed) {
          try {
            if (!deps.cipher) throw new Error('PROVIDER_CREDENTIALS_KEY is not configured');
            credentials = deps.cipher.open(c.credentialsSealed, credentialsAad(c.tenantId, c.channel, c.name));
          } catch (err) {
            // A wrong or missing key: nothing can be sent through it, so the next provider may try.
            deps.logger.error('provider credentials cannot be opened', { provider: `${tenantId}/${channel}/${c.name}`, error: (err as Error).message });
            return unusable(c.name);
          }
        }
        return buildProvider(c, credentials, deps.defaults, deps.clock);
      }, c.weight));
      const mode = configs[0]!.mode;
      return { candidates: orderCandidates(candidates, mode, deps.random), routed: true, mode };
    },
    states() {
      return [...slots.entries()].map(([key, s]) => ({ key, state: s.candidate.breaker.state() }));
    },
    close() {
      gauge.removeCallback(observe);
      for (const s of slots.values()) s.candidate.breaker.shutdown();
      slots.clear();
    },
  };
}
