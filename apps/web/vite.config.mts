/**
 * The browser app's build: `vite build --config apps/web/vite.config.mts` writes dist/web/
 * (part of `npm run build`); `vite --config apps/web/vite.config.mts` is a development
 * server with hot reload that proxies /api to the gateway and answers /config.json from the
 * same variables as the web server (apps/web-server).
 *
 * After a build the plugin `bundleReport` writes a .gz beside every JS and CSS file and prints the gzip size of every JS chunk and of what
 * the first page load fetches (the entry and its static imports), and fails the build when
 * that exceeds FIRST_LOAD_BUDGET: the official and admin areas are lazy chunks.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const FIRST_LOAD_BUDGET = 250 * 1024;

interface ChunkInfo {
  fileName: string;
  name: string;
  isEntry: boolean;
  isDynamicEntry: boolean;
  imports: string[];
  dynamicImports: string[];
  gzip: number;
  raw: number;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

function bundleReport(): Plugin {
  return {
    name: 'dvd-bundle-report',
    apply: 'build',
    writeBundle(options, bundle) {
      const chunks = new Map<string, ChunkInfo>();
      for (const item of Object.values(bundle)) {
        // gzip beside every script and stylesheet: the web server sends it to clients that take gzip
        if (options.dir && /\.(js|css)$/.test(item.fileName)) {
          const body = item.type === 'chunk' ? item.code : item.source;
          writeFileSync(join(options.dir, `${item.fileName}.gz`), gzipSync(body, { level: 9 }));
        }
        if (item.type !== 'chunk') continue;
        chunks.set(item.fileName, {
          fileName: item.fileName,
          name: item.name,
          isEntry: item.isEntry,
          isDynamicEntry: item.isDynamicEntry,
          imports: item.imports,
          dynamicImports: item.dynamicImports,
          raw: Buffer.byteLength(item.code),
          gzip: gzipSync(item.code, { level: 9 }).length,
        });
      }
      /** A chunk and everything it imports statically: what loading it fetches. */
      const closure = (fileName: string, seen = new Set<string>()) => {
        if (seen.has(fileName) || !chunks.has(fileName)) return seen;
        seen.add(fileName);
        for (const i of chunks.get(fileName)!.imports) closure(i, seen);
        return seen;
      };
      const sum = (files: Set<string>) => [...files].reduce((n, f) => n + (chunks.get(f)?.gzip ?? 0), 0);
      const lines = ['[web] JS per chunk (gzip):'];
      for (const c of [...chunks.values()].sort((a, b) => b.gzip - a.gzip)) {
        const kind = c.isEntry ? 'entry' : c.isDynamicEntry ? 'lazy' : 'shared';
        lines.push(`[web]   ${c.fileName.padEnd(44)} ${kind.padEnd(6)} ${kib(c.gzip).padStart(10)} gzip  (${kib(c.raw)})`);
      }
      let failed = false;
      for (const entry of [...chunks.values()].filter((c) => c.isEntry)) {
        const first = sum(closure(entry.fileName));
        lines.push(
          `[web] first load (${entry.fileName} + static imports; the start and citizen pages): ${kib(first)} gzip, budget ${kib(FIRST_LOAD_BUDGET)}`,
        );
        if (first > FIRST_LOAD_BUDGET) failed = true;
        for (const lazy of entry.dynamicImports) {
          const extra = [...closure(lazy)].filter((f) => !closure(entry.fileName).has(f));
          lines.push(`[web]   + on demand ${chunks.get(lazy)?.name ?? lazy}: ${kib(sum(new Set(extra)))} gzip`);
        }
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      if (failed) this.error(`the first load exceeds ${kib(FIRST_LOAD_BUDGET)} gzip`);
    },
  };
}

/** Development server only: /config.json from the same variables the web server reads. */
function devConfigJson(): Plugin {
  return {
    name: 'dvd-dev-config-json',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use('/config.json', (_req, res) => {
        const idp = process.env.DEV_IDP_URL ?? 'http://127.0.0.1:3100';
        res.setHeader('content-type', 'application/json');
        res.setHeader('cache-control', 'no-store');
        res.end(
          JSON.stringify({
            apiBase: process.env.WEB_API_BASE ?? '/api/v1',
            audience: process.env.AUTH_AUDIENCE ?? 'dvd-api',
            issuers: {
              citizen: process.env.CITIZEN_ISSUER ?? `${idp}/citizen`,
              official: process.env.OFFICIAL_ISSUER ?? `${idp}/official`,
            },
            clientId: process.env.WEB_CLIENT_ID ?? 'dvd-web',
          }),
        );
      });
    },
  };
}

export default defineConfig({
  root: here('.'),
  publicDir: here('public'),
  base: '/',
  plugins: [react(), devConfigJson(), bundleReport()],
  resolve: {
    alias: {
      '@dvd/sdk': here('../../libs/sdk/src/index.ts'),
      '@dvd/contracts': here('../../libs/contracts/src/index.ts'),
    },
  },
  build: {
    outDir: here('../../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // fonts and icons stay files: the CSP allows fonts from 'self' only
    assetsInlineLimit: 0,
    // no inline script anywhere (CSP script-src 'self'); every supported browser preloads modules itself
    modulePreload: { polyfill: false },
    sourcemap: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    port: Number(process.env.WEB_DEV_PORT ?? 5173),
    strictPort: true,
    proxy: {
      '/api': { target: process.env.GATEWAY_URL ?? 'http://127.0.0.1:3000', changeOrigin: false },
      // the receipt keys, as apps/web-server forwards them
      '/.well-known/jwks.json': { target: process.env.GATEWAY_URL ?? 'http://127.0.0.1:3000', changeOrigin: false },
    },
  },
});
