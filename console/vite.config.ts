import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Served by router-service at /console/ (same origin as the API: the session cookie and CSRF stay simple).
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    // No inline scripts or styles: the router's Content-Security-Policy allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
});
