import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { ApiError } from '@dvd/platform';

const METADATA_MAX_BYTES = 64 * 1024;

export interface MultipartHandlers<M, T> {
  /** Parses and validates the metadata part (may be async: it looks up the authority). */
  onMetadata(text: string): Promise<M>;
  /** Consumes the payload stream completely (or destroys it) and returns the result. */
  onPayload(stream: Readable & { truncated?: boolean }, metadata: M): Promise<T>;
}

const part = (detail: string, field = 'multipart') => ApiError.badRequest(detail, [{ field, message: detail }]);

/**
 * Streams a `multipart/form-data` upload: the `metadata` part first (a field or a small
 * file part), then exactly one `encryptedPayload` file part, which is handed on as a
 * stream and never buffered. Payload bytes beyond `maxPayloadBytes` end the upload with
 * 413 at once (busboy's fileSize limit).
 */
export function receiveMultipart<M, T>(req: IncomingMessage, maxPayloadBytes: number, handlers: MultipartHandlers<M, T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let metadata: Promise<M> | undefined;
    let payloadSeen = false;
    let bb: busboy.Busboy;

    const finish = (err: unknown, value?: T) => {
      if (settled) return;
      settled = true;
      if (err) {
        req.unpipe(bb);
        reject(err);
      } else {
        resolve(value as T);
      }
    };

    try {
      bb = busboy({
        headers: req.headers,
        limits: {
          fields: 2,
          files: 2,
          parts: 3,
          fileSize: maxPayloadBytes,
          fieldSize: METADATA_MAX_BYTES,
          fieldNameSize: 100,
          headerPairs: 20,
        },
      });
    } catch {
      return reject(part('The multipart body is malformed (missing boundary?)'));
    }

    const acceptMetadata = (text: string, truncated: boolean) => {
      if (truncated) return finish(part('The metadata part is too large', 'metadata'));
      metadata = Promise.resolve(text).then((t) => handlers.onMetadata(t));
      metadata.catch((err: unknown) => finish(err));
    };

    bb.on('field', (name, value, info) => {
      if (name !== 'metadata' || metadata) return finish(part(`Unexpected form field "${name.slice(0, 50)}"`));
      acceptMetadata(value, info.valueTruncated);
    });

    bb.on('file', (name, stream: Readable & { truncated?: boolean }, info) => {
      if (name === 'metadata' && !metadata && !payloadSeen) {
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= METADATA_MAX_BYTES) chunks.push(c);
        });
        stream.on('end', () => acceptMetadata(Buffer.concat(chunks).toString('utf8'), size > METADATA_MAX_BYTES));
        return;
      }
      if (name !== 'encryptedPayload' || payloadSeen) {
        stream.resume();
        return finish(part(`Unexpected part "${name.slice(0, 50)}"`));
      }
      payloadSeen = true;
      void info;
      if (!metadata) {
        stream.resume();
        return finish(part('The metadata part must come before encryptedPayload', 'metadata'));
      }
      metadata.then(
        (m) => handlers.onPayload(stream, m).then((v) => finish(null, v), finish),
        () => stream.resume(),
      );
    });

    bb.on('partsLimit', () => finish(part('Only the parts metadata and encryptedPayload are expected')));
    bb.on('filesLimit', () => finish(part('Only one encryptedPayload part is expected')));
    bb.on('fieldsLimit', () => finish(part('Only one metadata field is expected')));
    bb.on('error', () => finish(part('The multipart body is malformed')));
    bb.on('close', () => {
      if (!metadata) return finish(part('The metadata part is missing', 'metadata'));
      if (!payloadSeen) return finish(part('The encryptedPayload part is missing', 'encryptedPayload'));
    });
    req.on('aborted', () => finish(part('The upload was aborted by the client')));
    req.pipe(bb);
  });
}

/** The text of a `metadata` part as JSON, or 400. */
export function parseMetadataJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw ApiError.badRequest('The metadata part is not JSON', [{ field: 'metadata', message: 'must be a JSON object' }]);
  }
}
