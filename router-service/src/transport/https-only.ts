import type { RequestHandler } from 'express';
import { HttpProblem, sendProblem } from '@ca/http';

export interface TransportSettings {
  /** Refuse API requests that did not arrive over HTTPS (directly, or via a trusted proxy). */
  httpsOnly: boolean;
  /** Port the HTTPS URL in the refusal names (443 is left out of the URL). */
  httpsPort: number;
  /** Strict-Transport-Security max-age on HTTPS responses; 0 sends none. */
  hstsMaxAgeSeconds: number;
}

export class HttpsRequired extends HttpProblem {
  constructor(httpsUrl: string) {
    super(403, 'HTTPS_REQUIRED', 'HTTPS required', `This API is served over HTTPS only: use ${httpsUrl}`, { httpsUrl });
  }
}

/**
 * HTTPS only, without redirects: a client that sent a key or a message body over plain HTTP has
 * already leaked it, and a 301/302 would make most clients resend a POST as a GET. So the request is
 * refused with a problem naming the HTTPS URL. `req.secure` is true for TLS connections and, only
 * when the peer is a trusted proxy (express `trust proxy`), for `X-Forwarded-Proto: https`.
 * HTTPS responses carry HSTS so browsers never try plain HTTP again.
 */
export function httpsOnly(settings: TransportSettings): RequestHandler {
  const hsts = settings.hstsMaxAgeSeconds > 0 ? `max-age=${settings.hstsMaxAgeSeconds}; includeSubDomains` : null;
  return (req, res, next) => {
    if (req.secure) {
      if (hsts) res.setHeader('Strict-Transport-Security', hsts);
      return next();
    }
    if (!settings.httpsOnly) return next();
    const port = settings.httpsPort === 443 ? '' : `:${settings.httpsPort}`;
    const host = (req.hostname || 'localhost').replace(/[^A-Za-z0-9.\-[\]:]/g, '');
    const bare = host.startsWith('[') ? host : host.replace(/:\d+$/, '');
    sendProblem(res, new HttpsRequired(`https://${bare}${port}${req.originalUrl.split('?')[0] ?? '/'}`));
  };
}
