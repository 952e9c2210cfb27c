import { closureSelector, foldersToRemove, packageOf, traceEntry } from './prune-deps';

describe('prune-deps (the web server image keeps only the packages it requires)', () => {
  it('names the package of a specifier; none for builtins and relative paths', () => {
    expect(packageOf('express')).toBe('express');
    expect(packageOf('pino/file')).toBe('pino');
    expect(packageOf('@pinojs/redact')).toBe('@pinojs/redact');
    expect(packageOf('@scope/name/sub/path.js')).toBe('@scope/name');
    for (const s of ['node:http', 'fs', 'fs/promises', 'path', './web-app', '../../libs/x.js', '/abs.js']) expect(packageOf(s)).toBeNull();
  });

  it('follows relative requires from the entry through dist/ and collects the packages, once each', () => {
    const files: Record<string, string> = {
      '/app/dist/apps/web/src/main.js': `const node_http_1 = require("node:http");
const core_1 = require("../../../libs/platform/src/core.js");
const web_app_1 = require("./web-app");
var again = require('./web-app');`,
      '/app/dist/apps/web/src/web-app.js': `const express_1 = __importDefault(require("express"));
const hpm = require("http-proxy-middleware");
const fs = require("fs");`,
      '/app/dist/libs/platform/src/core.js': `__exportStar(require("./config/config"), exports);
__exportStar(require("./logging/logger"), exports);`,
      '/app/dist/libs/platform/src/config/config.js': `const zod_1 = require("zod");`,
      '/app/dist/libs/platform/src/logging/logger/index.js': `const pino_1 = require('pino'); require("pino/file"); require("@pinojs/redact")`,
      // never required from the entry: its packages must not count
      '/app/dist/libs/platform/src/index.js': `require("@nestjs/common"); require("typeorm");`,
    };
    const fs = { read: (p: string) => files[p], isFile: (p: string) => p in files };
    expect(traceEntry('/app/dist/apps/web/src/main.js', fs)).toEqual({
      files: [
        '/app/dist/apps/web/src/main.js',
        '/app/dist/apps/web/src/web-app.js',
        '/app/dist/libs/platform/src/config/config.js',
        '/app/dist/libs/platform/src/core.js',
        '/app/dist/libs/platform/src/logging/logger/index.js',
      ],
      packages: ['@pinojs/redact', 'express', 'http-proxy-middleware', 'pino', 'zod'],
    });
    expect(() => traceEntry('/app/dist/missing.js', fs)).toThrow(/no such file/);
  });

  it('asks npm for the required packages as direct dependencies of the root, and all below them', () => {
    expect(closureSelector(['@pinojs/redact', 'zod'])).toBe(
      ':root > #@pinojs/redact, :root > #@pinojs/redact *, :root > #zod, :root > #zod *',
    );
  });

  it('removes every package folder not kept, outermost only, and refuses to remove a kept one', () => {
    const installed = [
      'node_modules/express',
      'node_modules/express/node_modules/debug',
      'node_modules/@nestjs/common',
      'node_modules/@nestjs/core',
      'node_modules/typeorm',
      'node_modules/typeorm/node_modules/glob',
      'node_modules/zod',
    ];
    expect(
      foldersToRemove(installed, new Set(['node_modules/express', 'node_modules/express/node_modules/debug', 'node_modules/zod'])),
    ).toEqual(['node_modules/@nestjs/common', 'node_modules/@nestjs/core', 'node_modules/typeorm']);
    expect(() => foldersToRemove(installed, new Set(['node_modules/typeorm/node_modules/glob']))).toThrow(
      /lies inside node_modules\/typeorm/,
    );
  });
});
