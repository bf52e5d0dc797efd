import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The seller's web app, built into dist/ and served by the gateway (same origin as the API, so
 * no CORS and no proxy in production). `vite` alone serves it on 5173 against a running stack.
 */
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: Object.fromEntries(
      ['/api', '/auth', '/credits', '/payments', '/openapi.json', '/docs'].map((prefix) => [prefix, 'http://localhost:8080']),
    ),
  },
});
