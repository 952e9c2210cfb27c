import { ConfigError } from '../config/config';
import { storageOptionsFrom } from './object-storage';

describe('storageOptionsFrom', () => {
  const base = { S3_BUCKET: 'dvd-documents', S3_REGION: 'eu-central-1' };

  it('passes both keys on (local and self-hosted stores)', () => {
    expect(
      storageOptionsFrom({ ...base, S3_ENDPOINT: 'http://127.0.0.1:4568', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' }),
    ).toMatchObject({ endpoint: 'http://127.0.0.1:4568', accessKeyId: 'id', secretAccessKey: 'secret' });
  });

  it('without keys leaves credentials to the AWS default chain (IRSA, Pod Identity, instance roles)', () => {
    const o = storageOptionsFrom(base);
    expect(o.accessKeyId).toBeUndefined();
    expect(o.secretAccessKey).toBeUndefined();
  });

  it.each([
    [{ S3_ACCESS_KEY_ID: 'id' }, 'S3_SECRET_ACCESS_KEY'],
    [{ S3_SECRET_ACCESS_KEY: 'secret' }, 'S3_ACCESS_KEY_ID'],
  ])('refuses one key without the other (%j), naming the missing one', (keys, missing) => {
    let error: unknown;
    try {
      storageOptionsFrom({ ...base, ...keys });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual([missing]);
    expect((error as ConfigError).message).not.toMatch(/secret\b|\bid\b/);
  });
});
