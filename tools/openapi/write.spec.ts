import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiText } from './write';

describe('docs/openapi.json', () => {
  it('is the document generated from libs/contracts (run `npm run openapi` after changing a contract)', () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8');
    expect(committed).toBe(openApiText());
  });
});
