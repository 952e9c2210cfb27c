import type { IncomingMessage } from 'node:http';

/** Reads a request body of at most `limit` bytes (a longer one fails). */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Form fields of a urlencoded body, a repeated field as an array. */
export function formFields(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prior = out[k];
    out[k] = prior === undefined ? v : ([] as string[]).concat(prior, v);
  }
  return out;
}
