/**
 * Input rules the platform checks (libs/contracts/src/http/common.ts), repeated here as
 * plain regular expressions: importing them from @dvd/contracts would bring zod and the
 * OpenAPI registry into the first page load. The server stays the judge; these only let the
 * form say early what it will refuse. Unit-tested against the contracts.
 */
export const AUTHORITY_ID = /^[a-z0-9-]{2,50}$/;
export const UNIT_ID = /^[a-z0-9-]{1,50}$/;
export const DOCUMENT_TYPE = /^[A-Z0-9_]{1,40}$/;
export const SERVICE_KEY = /^[0-9]{14}$/;
export const REGION_KEY = /^[0-9]{12}$/;
export const REGION_KEY_PREFIX = /^[0-9]{1,12}$/;
/** Single-line text without control, bidirectional or zero-width characters. */
export const SAFE_TEXT = /^[^\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]*$/;
export const REFERENCE_NUMBER_MAX = 50;
export const INGEST_SECRET = /^whsec_[A-Za-z0-9+/]{32,86}={0,2}$/;
export const ISO_DURATION = /^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

export function validReferenceNumber(v: string): boolean {
  return v.length >= 1 && v.length <= REFERENCE_NUMBER_MAX && SAFE_TEXT.test(v);
}

/** Document types the form suggests (any value of the pattern is allowed). */
export const SUGGESTED_DOCUMENT_TYPES = [
  'ANTRAG',
  'BAUANTRAG',
  'WOHNGELD_ANTRAG',
  'NACHWEIS',
  'WIDERSPRUCH',
  'STELLUNGNAHME',
  'SONSTIGES',
] as const;
