import { DvdNetworkError } from './errors';
import { problemFrom, type Transport } from './http';

export interface TransferProgress {
  /** Bytes sent (upload) or received (download) so far. */
  loaded: number;
  /** All bytes, when known. */
  total?: number;
}
export type ProgressListener = (p: TransferProgress) => void;

/** The part of the browser's XMLHttpRequest used here (typed locally: the SDK compiles without the DOM library). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getAllResponseHeaders(): string;
  send(body: FormData): void;
  abort(): void;
  responseType: string;
  response: unknown;
  status: number;
  statusText: string;
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}
const XhrCtor = () => (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;

/**
 * POSTs a multipart form with upload progress. Browsers: XMLHttpRequest (the only API that
 * reports upload progress there). Elsewhere (Node ≥ 20): the form is encoded by the runtime's
 * own `Request` as a stream and sent as it is pulled, counting the bytes.
 * Throws DvdProblemError / DvdNetworkError like every SDK call; retries are the caller's.
 */
export async function postForm(
  transport: Transport,
  path: string,
  form: FormData,
  o: { headers?: Record<string, string>; onProgress?: ProgressListener; signal?: AbortSignal },
): Promise<Response> {
  const url = transport.url(path);
  const headers = { accept: 'application/json', ...(await transport.authorization()), ...o.headers };
  const res =
    XhrCtor() && !transport.options.fetch ? await viaXhr(url, form, headers, o) : await viaFetch(transport, url, form, headers, o);
  if (!res.ok) throw await problemFrom(res);
  return res;
}

async function viaFetch(
  transport: Transport,
  url: string,
  form: FormData,
  headers: Record<string, string>,
  o: { onProgress?: ProgressListener; signal?: AbortSignal },
): Promise<Response> {
  // the runtime encodes the form as a stream (no copy of the payload); progress counts what the connection pulls
  const encoded = new Request(url, { method: 'POST', body: form });
  const total = await encodedSize(form);
  let loaded = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      loaded += chunk.byteLength;
      controller.enqueue(chunk);
      o.onProgress?.({ loaded, total: Math.max(loaded, total) });
    },
  });
  const body = encoded.body!.pipeThrough(counter);
  const fetchImpl = transport.options.fetch ?? globalThis.fetch;
  try {
    return await fetchImpl(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': encoded.headers.get('content-type')! },
      body,
      signal: o.signal,
      // a streamed request body (Fetch standard; Node's fetch requires it)
      ...({ duplex: 'half' } as object),
    });
  } catch (err) {
    if (o.signal?.aborted) throw err;
    throw new DvdNetworkError('the upload got no answer from the platform', { cause: err });
  }
}

function viaXhr(
  url: string,
  form: FormData,
  headers: Record<string, string>,
  o: { onProgress?: ProgressListener; signal?: AbortSignal },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new (XhrCtor()!)();
    xhr.open('POST', url);
    xhr.responseType = 'blob';
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => o.onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : undefined });
    xhr.onload = () => {
      const h = new Headers();
      for (const line of xhr
        .getAllResponseHeaders()
        .trim()
        .split(/[\r\n]+/)) {
        const i = line.indexOf(':');
        if (i > 0) h.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      resolve(new Response(xhr.response as Blob, { status: xhr.status, statusText: xhr.statusText, headers: h }));
    };
    xhr.onerror = () => reject(new DvdNetworkError('the upload got no answer from the platform'));
    xhr.onabort = () => reject(o.signal?.reason ?? new DOMException('aborted', 'AbortError'));
    if (o.signal?.aborted) return reject(o.signal.reason);
    o.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/**
 * The encoded size of a form without encoding its files: the runtime encodes a copy whose
 * files are empty (the framing), plus the files' sizes.
 */
async function encodedSize(form: FormData): Promise<number> {
  const skeleton = new FormData();
  let files = 0;
  form.forEach((v, k) => {
    if (typeof v === 'string') return skeleton.append(k, v);
    files += v.size;
    skeleton.append(k, new Blob([], { type: v.type }), (v as File).name);
  });
  return (await new Request('http://localhost/', { method: 'POST', body: skeleton }).arrayBuffer()).byteLength + files;
}

/**
 * Reads a response body to bytes, reporting progress; at most `maxBytes` (more: the error
 * from `tooLarge`, by default a DvdNetworkError). A broken stream is a DvdNetworkError.
 */
export async function readBody(
  res: Response,
  o: { onProgress?: ProgressListener; maxBytes?: number; tooLarge?: (maxBytes: number) => Error } = {},
): Promise<Uint8Array> {
  const lengthHeader = res.headers.get('content-length');
  const total = lengthHeader && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const max = o.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const tooLarge = () => o.tooLarge?.(max) ?? new DvdNetworkError(`the answer is larger than ${max} bytes`);
  if (total !== undefined && total > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  // with a known length the bytes go straight into one buffer (no second copy of the whole body)
  let buffer = new Uint8Array(total ?? 64 * 1024);
  let loaded = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      let chunk: { done: boolean; value?: Uint8Array };
      try {
        chunk = await reader.read();
      } catch (err) {
        throw new DvdNetworkError('the download broke off', { cause: err });
      }
      if (chunk.done || !chunk.value) break;
      const value = chunk.value;
      if (loaded + value.length > max) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      if (loaded + value.length > buffer.length) {
        const grown = new Uint8Array(Math.max(buffer.length * 2, loaded + value.length));
        grown.set(buffer.subarray(0, loaded));
        buffer = grown;
      }
      buffer.set(value, loaded);
      loaded += value.length;
      o.onProgress?.({ loaded, total });
    }
  }
  return loaded === buffer.length ? buffer : buffer.subarray(0, loaded);
}
