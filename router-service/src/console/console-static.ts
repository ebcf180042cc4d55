import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';
import { HttpProblem } from '@ca/http';

/**
 * Strict: the console's own scripts, styles and API only. No inline script or style (Vite emits
 * none), no framing (clickjacking), no plugins, forms post only here.
 */
export const CONSOLE_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/**
 * /console/: the built console (console/dist, see console/build.mjs). Hashed assets are cached for
 * a year; index.html never (it names the current assets). When the folder has no build the console
 * answers 503 CONSOLE_NOT_BUILT instead of a blank page.
 */
export function consoleStatic(dir: string): Router {
  const router = Router();
  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    next();
  });
  router.use('/assets', express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false }));
  router.get('/', (req, res, next) => {
    // Relative asset URLs need the trailing slash.
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) return res.redirect(301, `${req.baseUrl}/`);
    const index = join(dir, 'index.html');
    if (!existsSync(index)) return next(new HttpProblem(503, 'CONSOLE_NOT_BUILT', 'Console not built', 'Run `npm run build -w console` (npm ci and npm start do it)'));
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
