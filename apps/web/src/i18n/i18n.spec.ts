import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Tree = { [key: string]: string | Tree };
const load = (lang: string) => JSON.parse(readFileSync(join(__dirname, `${lang}.json`), 'utf8')) as Tree;

/** Every key path with its text (plural forms `_one`/`_other` are keys of their own). */
function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    if (typeof v === 'string') out.set(prefix + k, v);
    else for (const [kk, vv] of flatten(v, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}

const placeholders = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe('texts in German and English', () => {
  const de = flatten(load('de'));
  const en = flatten(load('en'));

  it('have the same keys', () => {
    expect([...en.keys()].filter((k) => !de.has(k))).toEqual([]);
    expect([...de.keys()].filter((k) => !en.has(k))).toEqual([]);
  });

  it('use the same placeholders and leave none empty', () => {
    for (const [k, text] of de) {
      expect(`${k}: ${placeholders(text).join(',')}`).toBe(`${k}: ${placeholders(en.get(k) ?? '').join(',')}`);
      expect(text.trim()).not.toBe('');
      expect((en.get(k) ?? '').trim()).not.toBe('');
    }
  });
});
