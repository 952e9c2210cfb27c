import { ReceiptAlgorithm, generateReceiptSigningKey } from '@dvd/platform';

export type TestReceiptKey = Record<string, unknown> & { kid: string };

/** A fresh receipt signing key (a private JWK). */
export const generateTestReceiptKey = (kid: string, alg: ReceiptAlgorithm = 'EdDSA'): TestReceiptKey =>
  generateReceiptSigningKey(kid, alg) as TestReceiptKey;

/** One receipt signing key per test process (Ed25519), as `RECEIPT_SIGNING_KEYS` holds it. */
export const TEST_RECEIPT_KEY: TestReceiptKey = generateTestReceiptKey('test-receipts-1');

/** intake's receipt variables for a test instance: the issuer, and the signing keys (current first). */
export function testReceiptEnv(keys: TestReceiptKey[] = [TEST_RECEIPT_KEY], issuer = 'https://dvd.test'): Record<string, string> {
  return { PUBLIC_BASE_URL: issuer, RECEIPT_SIGNING_KEYS: JSON.stringify(keys) };
}
