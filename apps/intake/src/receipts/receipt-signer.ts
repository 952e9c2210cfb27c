import { Inject, Injectable } from '@nestjs/common';
import type { ReceiptClaims } from '@dvd/contracts';
import { ReceiptKeyring } from '@dvd/platform';
import { INTAKE_CONFIG } from '../intake-config.token';
import { IntakeConfig } from '../intake.config';

export const RECEIPT_KEYRING = Symbol('RECEIPT_KEYRING');

export interface ReceiptSubject {
  documentId: string;
  authorityId: string;
  documentType: string;
  size: number;
  sha256: string;
  payloadKid: string;
  createdAt: Date;
}

/**
 * Signs the receipt of a stored document with the current receipt key (ADR 0019): ids,
 * type, size and hash of the container and the kid it was made for — never the Aktenzeichen
 * or a name, since a receipt gets shown to others. The receipt is stored with the document
 * and answered unchanged ever after.
 */
@Injectable()
export class ReceiptSigner {
  private readonly issuer: string;

  constructor(
    @Inject(RECEIPT_KEYRING) readonly keyring: ReceiptKeyring,
    @Inject(INTAKE_CONFIG) config: IntakeConfig,
  ) {
    this.issuer = config.PUBLIC_BASE_URL.replace(/\/+$/, '');
  }

  sign(s: ReceiptSubject): { jws: string; kid: string } {
    const claims: ReceiptClaims = {
      iss: this.issuer,
      sub: s.documentId,
      iat: Math.floor(s.createdAt.getTime() / 1000),
      authorityId: s.authorityId,
      documentType: s.documentType,
      payload: { size: s.size, sha256: s.sha256 },
      payloadKid: s.payloadKid,
    };
    return this.keyring.sign(claims);
  }
}
