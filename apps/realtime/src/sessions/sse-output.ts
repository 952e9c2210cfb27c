import type { ServerResponse } from 'node:http';
import { type ServerHttp2Stream, constants } from 'node:http2';

/**
 * Where a session writes its frames: an HTTP/1.1 response (a direct client, or a gateway of
 * the previous release) or an HTTP/2 stream on one of the connections the gateway multiplexes
 * its streams over (ADR 0021). The session needs no more than this of either.
 */
export interface SseOutput {
  /** Sends the 200 head at once, before any frame. */
  begin(headers: Readonly<Record<string, string>>): void;
  write(chunk: string): void;
  /** Bytes written but not yet taken by the peer (what a slow client is measured by). */
  readonly writableLength: number;
  /** Ends the stream after what was written. */
  end(): void;
  /** Ends it at once, dropping what was not sent. */
  destroy(): void;
  /** Whether the peer is gone or the stream was ended. */
  readonly gone: boolean;
  onClose(listener: () => void): void;
}

export class Http1Output implements SseOutput {
  constructor(private readonly res: ServerResponse) {}

  begin(headers: Readonly<Record<string, string>>): void {
    this.res.writeHead(200, headers);
    this.res.flushHeaders();
  }

  write(chunk: string): void {
    this.res.write(chunk);
  }

  get writableLength(): number {
    return this.res.writableLength;
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }

  destroy(): void {
    this.res.destroy();
  }

  get gone(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  onClose(listener: () => void): void {
    this.res.once('close', listener);
  }
}

export class Http2Output implements SseOutput {
  constructor(private readonly stream: ServerHttp2Stream) {}

  begin(headers: Readonly<Record<string, string>>): void {
    const lower: Record<string, string> = { ':status': '200' };
    for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
    this.stream.respond(lower);
  }

  write(chunk: string): void {
    this.stream.write(chunk);
  }

  get writableLength(): number {
    return this.stream.writableLength;
  }

  end(): void {
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.end();
  }

  destroy(): void {
    // RST_STREAM: the gateway ends its client's response at once (the client reconnects and resumes)
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
  }

  get gone(): boolean {
    return this.stream.destroyed || this.stream.closed || this.stream.writableEnded;
  }

  onClose(listener: () => void): void {
    this.stream.once('close', listener);
  }
}
