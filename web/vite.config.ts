// Builds the portal (web/src) into web/dist, which the server serves at `/` (src/http/web.ts).
// Everything is bundled: no CDN, no web fonts, no remote images.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // One small app: a single chunk is simplest to serve and cache.
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development, with `npm start` running alongside.
    proxy: { '/api': 'http://127.0.0.1:8080', '/v2': 'http://127.0.0.1:8080' },
  },
});
