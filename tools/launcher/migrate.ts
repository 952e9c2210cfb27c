/**
 * `npm run migrate`: applies every service's pending migrations, one service after the
 * other, and exits. Each service migrates with its own compiled `main.js migrate` (the
 * command Kubernetes and `nx run <app>:migrate` use), so this needs only DATABASE_URL
 * (and LOG_LEVEL). Stops at the first service that fails, with its exit code.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The services with a database schema, in the order `npm start` starts them. */
export const MIGRATING_APPS = ['routing-engine', 'intake', 'communication', 'export-worker'] as const;

const root = resolve(__dirname, '..', '..', '..');

function say(line: string) {
  process.stdout.write(`[dvd] ${line}\n`);
}

function migrateApp(app: string): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(root, 'dist', 'apps', app, 'src', 'main.js'), 'migrate'], {
      env: process.env,
      stdio: 'inherit',
    });
    child.on('error', fail);
    child.on('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  for (const app of MIGRATING_APPS) {
    const code = await migrateApp(app);
    if (code !== 0) {
      say(`${app}: migration failed (exit code ${code}); later services were not migrated`);
      return code;
    }
    say(`${app}: migrated`);
  }
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      say(`migrate failed: ${(err as Error)?.message ?? String(err)}`);
      process.exit(1);
    },
  );
}
