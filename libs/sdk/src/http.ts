import { backOff } from 'exponential-backoff';
import { sleep } from './bytes';
import { DvdNetworkError, DvdProblemError, type Problem } from './errors';

/** A bearer token, or a function that returns a fresh one for every request. */
export type TokenSource = string | (() => string | Promise<string>);

export interface TransportOptions {
  /** The gateway's API base, e.g. `https://dvd.example/api/v1`. */
  baseUrl: string;
  token?: TokenSource;
  /** A `fetch` implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Attempts after the first for retryable failures (default 4). */
  retries?: number;
  /** Base delay of the exponential backoff in ms (default 250; full jitter, at most 10 s). */
  retryDelayMs?: number;
  /** The longest `Retry-After` honoured, in ms (default 60 s); a longer one ends the retries. */
  maxRetryAfterMs?: number;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** A JSON body. */
  json?: unknown;
  /** A raw body (multipart, bytes) with its headers. */
  body?: RequestInit['body'];
  headers?: Record<string, string>;
  /** Set for a POST that may be repeated (the SDK sends an Idempotency-Key) — also retried on network errors. */
  idempotent?: boolean;
  signal?: AbortSignal;
  /** Send once: the caller retries around more than this request. */
  noRetry?: boolean;
  /** Statuses that are not errors besides 2xx (e.g. 304). */
  accept?: number[];
  /** `path` is from the gateway's root, not below the API base (`/.well-known/jwks.json`). */
  root?: boolean;
  /** Send no token (a public route). */
  anonymous?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  response: Response;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const PROBLEM_BODY_MAX = 64 * 1024;

/** Seconds of a `Retry-After` header (delta-seconds or HTTP date). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Turns a non-2xx response into a typed problem (its body read at most 64 KiB). */
export async function problemFrom(res: Response): Promise<DvdProblemError> {
  let problem: Problem = { type: 'about:blank', title: res.statusText || `HTTP ${res.status}`, status: res.status };
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json') && res.body) {
    const text = await readCapped(res, PROBLEM_BODY_MAX);
    try {
      const parsed = text === undefined ? undefined : (JSON.parse(text) as Partial<Problem>);
      if (parsed && typeof parsed === 'object' && typeof parsed.title === 'string') {
        problem = { ...parsed, type: parsed.type ?? 'about:blank', title: parsed.title, status: res.status } as Problem;
      }
    } catch {
      // not JSON after all: keep the status line
    }
  } else {
    await res.body?.cancel().catch(() => undefined);
  }
  return new DvdProblemError(problem, parseRetryAfter(res.headers.get('retry-after')));
}

async function readCapped(res: Response, max: number): Promise<string | undefined> {
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

/** Whether a failure may be retried: network errors (only when the request is repeatable), 429 and 503. */
export function isRetryable(err: unknown, repeatable: boolean): boolean {
  if (err instanceof DvdProblemError) {
    if (err.status === 429 || err.status === 503) return true;
    // the same Idempotency-Key is still being processed: ask again later
    return repeatable && err.status === 409 && err.code === 'idempotency-key-in-flight';
  }
  return err instanceof DvdNetworkError && repeatable;
}

/** HTTP with bearer tokens, problem+json errors and retries (exponential backoff with full jitter, `Retry-After` honoured). */
export class Transport {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(readonly options: TransportOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? ((...args) => globalThis.fetch(...args));
  }

  url(path: string, query?: Query, o: { root?: boolean } = {}): string {
    const u = new URL((o.root ? this.root() : this.base) + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** The gateway's root: the API base without its `/api/v1`. */
  root(): string {
    return this.base.replace(/\/api\/v1$/, '');
  }

  async authorization(): Promise<Record<string, string>> {
    const t = this.options.token;
    if (t === undefined) return {};
    const token = typeof t === 'function' ? await t() : t;
    return { authorization: `Bearer ${token}` };
  }

  /** Runs `attempt` with the retry policy. `repeatable`: safe to send again after a network error. */
  async withRetries<T>(repeatable: boolean, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const maxRetryAfter = this.options.maxRetryAfterMs ?? 60_000;
    return backOff(attempt, {
      numOfAttempts: (this.options.retries ?? 4) + 1,
      startingDelay: this.options.retryDelayMs ?? 250,
      timeMultiple: 2,
      maxDelay: 10_000,
      jitter: 'full',
      retry: async (err) => {
        if (signal?.aborted || !isRetryable(err, repeatable)) return false;
        const after = err instanceof DvdProblemError ? err.retryAfterSeconds : undefined;
        if (after !== undefined) {
          if (after * 1000 > maxRetryAfter) return false;
          await sleep(after * 1000, signal);
        }
        return true;
      },
    });
  }

  /** One request; resolves for 2xx (and `accept`ed statuses), throws DvdProblemError / DvdNetworkError otherwise. */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<HttpResponse> {
    const repeatable = SAFE_METHODS.has(method) || o.idempotent === true;
    const retry = o.noRetry ? <T>(_r: boolean, f: () => Promise<T>) => f() : this.withRetries.bind(this);
    return retry(
      repeatable,
      async () => {
        const headers: Record<string, string> = {
          accept: 'application/json',
          ...(o.anonymous ? {} : await this.authorization()),
          ...o.headers,
        };
        let body = o.body;
        if (o.json !== undefined) {
          headers['content-type'] = 'application/json';
          body = JSON.stringify(o.json);
        }
        let res: Response;
        try {
          res = await this.fetchImpl(this.url(path, o.query, { root: o.root }), { method, headers, body, signal: o.signal });
        } catch (err) {
          if (o.signal?.aborted) throw err;
          throw new DvdNetworkError(`${method} ${path}: no answer from the platform`, { cause: err });
        }
        if (res.ok || o.accept?.includes(res.status)) return { status: res.status, headers: res.headers, response: res };
        throw await problemFrom(res);
      },
      o.signal,
    );
  }

  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const { response } = await this.request(method, path, o);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
}
