/** Reading the deploy files: YAML as plain data, and paths relative to the repository. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from './deploy-inputs';

export type Json = Record<string, unknown>;
export const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const rel = (file: string): string => relative(ROOT, file);
export const read = (file: string): string => readFileSync(file, 'utf8');

/** Every document of a YAML file as plain data (anchors and aliases resolved). */
export function readYamlDocs(file: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of parseAllDocuments(read(file))) {
    if (doc.errors.length > 0) throw new Error(`${rel(file)}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS({ maxAliasCount: -1 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

export function readYaml(file: string): Json {
  const value: unknown = parse(read(file), { merge: true });
  if (!isRecord(value)) throw new Error(`${rel(file)} is not a YAML mapping`);
  return value;
}
