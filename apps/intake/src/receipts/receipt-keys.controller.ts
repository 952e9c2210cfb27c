import { Controller, Get, Injectable, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { ReceiptJwksView } from '@dvd/contracts';
import { ApiError, Public } from '@dvd/platform';
import { ReceiptSigner } from './receipt-signer';

/** How long one replica reuses the answer (the endpoint is public; its clients cache for 5 minutes). */
const CACHE_MS = 30_000;

/**
 * The published receipt keys (ADR 0019): the current key, and each retired key while a
 * document whose receipt it signed still exists (a receipt can be shown until its document
 * is purged). When a retired key drops out of this set it may be removed from the
 * configuration.
 */
@Injectable()
export class ReceiptJwks {
  private cached?: { at: number; value: Promise<ReceiptJwksView> };

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly signer: ReceiptSigner,
  ) {}

  jwks(now = Date.now()): Promise<ReceiptJwksView> {
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.value;
    const value = this.load();
    this.cached = { at: now, value };
    value.catch(() => (this.cached = undefined));
    return value;
  }

  private async load(): Promise<ReceiptJwksView> {
    const { current, retired } = this.signer.keyring;
    let needed = new Set<string>();
    if (retired.length > 0) {
      try {
        // documents_receipt_kid_idx answers each EXISTS
        const rows: Array<{ kid: string }> = await this.db.query(
          `SELECT kid FROM unnest($1::text[]) AS kid WHERE EXISTS (SELECT 1 FROM documents WHERE receipt_kid = kid)`,
          [retired.map((k) => k.kid)],
        );
        needed = new Set(rows.map((r) => r.kid));
      } catch {
        throw ApiError.unavailable();
      }
    }
    return { keys: [current.publicJwk, ...retired.filter((k) => needed.has(k.kid)).map((k) => k.publicJwk)] };
  }
}

/** `GET /.well-known/jwks.json`: public (the gateway forwards it without a token), cacheable. */
@Controller('.well-known')
export class ReceiptKeysController {
  constructor(private readonly jwks: ReceiptJwks) {}

  @Public()
  @Get('jwks.json')
  async keys(@Res({ passthrough: true }) res: Response): Promise<ReceiptJwksView> {
    const body = await this.jwks.jwks();
    res.setHeader('Cache-Control', 'public, max-age=300');
    return body;
  }
}
