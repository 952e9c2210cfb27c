import { z } from 'zod';
import {
  AuthorityCreateSchema,
  AuthorityPatchSchema,
  CLAIM_DEADLINE_RULE,
  INGEST_SECRET_RULE,
  IngestSecretRotationSchema,
  RETENTION_PERIOD_RULE,
  UnitCreateSchema,
} from '@dvd/contracts';
import { checkTargetUrl, parsePositiveDuration, parseRetentionPeriod } from '@dvd/platform';

/** During a rotation the previous secret stays valid this long unless the admin says otherwise … */
export const DEFAULT_PREVIOUS_SECRET_TTL_MS = 24 * 3600_000;
/** … and at most this long. */
export const MAX_PREVIOUS_SECRET_TTL_MS = 30 * 24 * 3600_000;

/** A rule only this service can check; returns what is wrong, or null. */
type ServerRule = (value: string) => string | null;

/**
 * Server-only rules on top of a contract schema, one per field. A rule runs only when the
 * contract's own rules for the field passed, so a field gets one message, not two.
 */
function serverRules(rules: Record<string, { contract: z.ZodTypeAny; check: ServerRule }>) {
  return (input: Record<string, unknown>, ctx: z.RefinementCtx) => {
    for (const [field, { contract, check }] of Object.entries(rules)) {
      const value = input[field];
      if (typeof value !== 'string' || !contract.safeParse(value).success) continue; // absent, or the contract already said why
      const problem = check(value);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field], message: problem });
    }
  };
}

const field = AuthorityCreateSchema.shape;

/** The decoded key of a `whsec_` secret is 24 to 64 bytes (the contract's pattern says so in characters). */
const ingestSecret = {
  contract: field.ingestSecret,
  check: (v: string) => {
    const n = Buffer.from(v.slice('whsec_'.length), 'base64').length;
    return n >= 24 && n <= 64 ? null : INGEST_SECRET_RULE;
  },
};
/** A duration the retention job can apply: positive (`P0D` matches the pattern but is refused). */
const retentionPeriod = {
  contract: field.retentionPeriod,
  check: (v: string) => (parseRetentionPeriod(v) === null ? RETENTION_PERIOD_RULE : null),
};

/** A deadline the overdue sweep can apply: positive (`PT0S` matches the pattern but is refused). */
const claimDeadline = {
  contract: field.claimDeadline,
  check: (v: string) => (parsePositiveDuration(v) === null ? CLAIM_DEADLINE_RULE : null),
};

/**
 * The request schemas: the contract's (libs/contracts/src/http/authorities.ts), so the
 * OpenAPI document and the validation cannot drift apart, plus what only this service can
 * check. The ingest URL is checked against the outbound policy: https only, no
 * credentials, no IP literal or name of a non-public address (unless the development
 * switch EXPORT_ALLOW_PRIVATE_TARGETS is on). The export worker checks again at connect time.
 */
export function authoritySchemas(allowPrivateTargets: boolean) {
  const ingestUrl = { contract: field.ingestUrl, check: (v: string) => checkTargetUrl(v, allowPrivateTargets) };
  const create = AuthorityCreateSchema.superRefine(serverRules({ ingestUrl, ingestSecret, retentionPeriod, claimDeadline }));
  const patch = AuthorityPatchSchema.superRefine(serverRules({ ingestUrl, ingestSecret, retentionPeriod, claimDeadline }));
  const rotateSecret = IngestSecretRotationSchema.superRefine(
    serverRules({
      ingestSecret,
      previousSecretExpiresAt: {
        contract: IngestSecretRotationSchema.shape.previousSecretExpiresAt,
        check: (v) => {
          const at = Date.parse(v);
          if (at <= Date.now()) return 'must be in the future';
          if (at > Date.now() + MAX_PREVIOUS_SECRET_TTL_MS) return 'must be at most 30 days ahead';
          return null;
        },
      },
    }),
  );
  return { create, patch, rotateSecret };
}

/** The contract's unit shape (the name is trimmed). */
export const createUnitSchema = UnitCreateSchema;
