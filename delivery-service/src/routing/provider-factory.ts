import type { Channel } from '@ca/contracts';
import type { Provider, Providers } from '../providers/provider';
import { createSmtpProvider } from '../providers/smtp-provider';
import { createTwilioProvider } from '../providers/twilio-provider';
import { createFcmProvider } from '../providers/fcm-provider';
import { createHttpSimProvider } from '../providers/http-sim-provider';
import type { ProviderConfig } from './provider-configs';

/** Production endpoints; a tenant's settings may point elsewhere (a regional edge, a local fake). */
export const PROVIDER_DEFAULTS = {
  twilioBaseUrl: 'https://api.twilio.com',
  fcmBaseUrl: 'https://fcm.googleapis.com',
  googleTokenUri: 'https://oauth2.googleapis.com/token',
} as const;

const str = (v: unknown, fallback?: string): string => (typeof v === 'string' && v !== '' ? v : fallback ?? '');

/**
 * Builds the adapter a stored provider config describes, with its credentials just opened. The
 * credentials live only inside the adapter's closure: never in a log line, span or response.
 */
export function buildProvider(config: ProviderConfig, credentials: Record<string, string>, defaults: Providers, clock: { now(): Date }): Provider {
  const s = config.settings;
  const channel: Channel = config.channel;
  switch (config.kind) {
    case 'smtp':
      return createSmtpProvider(config.name, {
        host: str(s.host),
        port: Number(s.port ?? 587),
        secure: s.secure === true,
        requireTls: s.requireTls === true,
        ...(s.user ? { user: str(s.user), password: credentials.password ?? '' } : {}),
        from: str(s.from),
        ...(s.messageIdDomain ? { messageIdDomain: str(s.messageIdDomain) } : {}),
      });
    case 'twilio':
      return createTwilioProvider(config.name, channel, { baseUrl: str(s.baseUrl, PROVIDER_DEFAULTS.twilioBaseUrl), accountSid: str(s.accountSid), authToken: credentials.authToken ?? '', from: str(s.from) }, clock);
    case 'fcm':
      return createFcmProvider(config.name, {
        baseUrl: str(s.baseUrl, PROVIDER_DEFAULTS.fcmBaseUrl),
        projectId: str(s.projectId),
        serviceAccount: { clientEmail: str(s.clientEmail), privateKey: credentials.privateKey ?? '', tokenUri: str(s.tokenUri, PROVIDER_DEFAULTS.googleTokenUri) },
      }, clock);
    case 'simulated': {
      if (s.baseUrl) return createHttpSimProvider(config.name, channel, str(s.baseUrl), clock);
      const base = defaults[channel];
      return { name: config.name, send: (req, signal) => base.send(req, signal), ...(base.lookup ? { lookup: base.lookup.bind(base) } : {}), ...(base.receipts ? { receipts: base.receipts } : {}) };
    }
  }
}
