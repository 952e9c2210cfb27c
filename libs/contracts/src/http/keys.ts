import { z } from './zod';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/** A public JSON Web Key (RFC 7517); private members are refused. */
export const JwkSchema = z
  .object({
    kty: z.enum(['RSA', 'EC']),
    kid: z.string().min(1).max(200).optional(),
    use: z.enum(['enc']).optional(),
    alg: z.string().optional().openapi({ example: 'RSA-OAEP-256' }),
    n: z.string().optional().openapi({ description: 'RSA modulus (base64url).' }),
    e: z.string().optional().openapi({ description: 'RSA public exponent (base64url).' }),
    crv: z.enum(['P-256', 'P-384']).optional(),
    x: z.string().optional().openapi({ description: 'EC x coordinate (base64url).' }),
    y: z.string().optional().openapi({ description: 'EC y coordinate (base64url).' }),
  })
  .passthrough()
  .refine((jwk) => PRIVATE_MEMBERS.every((member) => !(member in jwk)), 'must be a public key (no private members)')
  .openapi('Jwk', {
    description:
      'A public JSON Web Key (RFC 7517). Private members (`d`, `p`, `q`, `dp`, `dq`, `qi`) must not be present. Authority ' +
      'encryption keys are RSA (≥ 3072 bit) with `alg` `RSA-OAEP-256`, or EC P-256/P-384 with `alg` `ECDH-ES+A256KW`, and ' +
      'carry `kid` and `use: "enc"`.',
    additionalProperties: true,
    not: { anyOf: PRIVATE_MEMBERS.map((member) => ({ required: [member], properties: { [member]: {} } })) },
    example: {
      kty: 'EC',
      kid: '2025-01-enc',
      use: 'enc',
      alg: 'ECDH-ES+A256KW',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    },
  });

/**
 * The body of `addAuthorityKey`: a JSON object with a string `kty` whose standard members are
 * strings (`400` otherwise). Everything about the key itself (private members, type, size,
 * curve, `alg`, `use`, a usable `kid`) is judged afterwards and refused with `422`, naming the rule.
 */
export const JwkInputSchema = z
  .object({
    kty: z.string().openapi({ description: '`RSA` or `EC`; anything else → `422`.' }),
    kid: z.string().optional().openapi({
      description: '1–200 printable ASCII characters (otherwise `422`); missing or empty: the RFC 7638 thumbprint of the key.',
    }),
    use: z.string().optional().openapi({ description: '`enc` if given (otherwise `422`).' }),
    alg: z.string().optional().openapi({ description: '`RSA-OAEP-256` for RSA, `ECDH-ES+A256KW` for EC (otherwise `422`).' }),
    n: z.string().optional().openapi({ description: 'RSA modulus (base64url), at least 3072 bit.' }),
    e: z.string().optional().openapi({ description: 'RSA public exponent (base64url).' }),
    crv: z.string().optional().openapi({ description: '`P-256` or `P-384` (otherwise `422`).' }),
    x: z.string().optional().openapi({ description: 'EC x coordinate (base64url).' }),
    y: z.string().optional().openapi({ description: 'EC y coordinate (base64url).' }),
  })
  .passthrough()
  .openapi('JwkInput', {
    description:
      'A public encryption key to add (RFC 7517). Only its public members are kept; a key with private members ' +
      '(`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`) is refused with `422`.',
    additionalProperties: true,
  });

export const JwksSchema = z
  .object({ keys: z.array(JwkSchema) })
  .openapi('Jwks', { description: "A JWK Set of the authority's active public encryption keys." });

export const KeyParams = z.object({
  id: z.string().openapi({ param: { description: 'Authority id.' }, example: 'stadt-musterstadt' }),
  kid: z.string().openapi({ param: { description: 'Key id (`kid`) of the key.' }, example: '2025-01-enc' }),
});

/** A public JWK as the API answers it (and as a citizen's `replyKey` is stored). */
export type Jwk = z.input<typeof JwkSchema>;
export type Jwks = z.input<typeof JwksSchema>;
export type JwkInput = z.output<typeof JwkInputSchema>;
