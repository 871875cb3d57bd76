import { describe, expect, it } from 'vitest';
import { configSecretValues, secretFieldPaths } from './config-secrets.js';
import { configSchema } from './config-schema.js';
import { describeSecret, isCredentialVariable, redactSecrets, redactValue, registerSecret, registerSecretsFromEnvironment } from './secret-redaction.js';

describe('secret redaction', () => {
  it('redacts a registered secret as is, inside JSON strings, URL-encoded and base64', () => {
    const secret = 'FAKE"key/0000+x y';
    registerSecret(secret);
    expect(redactSecrets(`key=${secret}!`)).toBe('key=[redacted]!');
    expect(redactSecrets(JSON.stringify({ k: secret }))).toBe('{"k":"[redacted]"}');
    expect(redactSecrets(`https://h/?k=${encodeURIComponent(secret)}`)).toBe('https://h/?k=[redacted]');
    expect(redactSecrets(`Basic ${Buffer.from(secret).toString('base64')}`)).toBe('Basic [redacted]=');
    expect(redactValue({ a: [secret, 3], b: { c: `x${secret}` } })).toEqual({ a: ['[redacted]', 3], b: { c: 'x[redacted]' } });
  });

  it('knows credential variables by list and by name; short values are not redacted', () => {
    expect(['POSTHOG_PERSONAL_API_KEY', 'USAGELAB_PII_KEY', 'CLICKHOUSE_PASSWORD', 'GITHUB_TOKEN', 'SOME_SECRET', 'X_API_KEY'].every(isCredentialVariable)).toBe(true);
    expect(['PATH', 'HOME', 'MIXPANEL_PROJECT_ID', 'TOKENIZER_MODE'].some(isCredentialVariable)).toBe(false);
    registerSecretsFromEnvironment({ CLICKHOUSE_PASSWORD: 'FAKE-ch-0000', CI_JOB_TOKEN: 'FAKE-ci-token-0000', FEATURE_TOKEN: '1', HOME: '/home/FAKE-home-0000', USAGELAB_PII_KEY: 'abc' });
    expect(redactSecrets('FAKE-ch-0000 FAKE-ci-token-0000 /home/FAKE-home-0000 abc 1')).toBe('[redacted] [redacted] /home/FAKE-home-0000 abc 1');
  });

  it('shows a secret as set (…last 4), set, or not set', () => {
    expect(describeSecret('FAKE-test-key-0000-9c0f')).toBe('set (…9c0f)');
    expect(describeSecret('FAKE-00')).toBe('set');
    expect(describeSecret('')).toBe('not set');
    expect(describeSecret(undefined)).toBe('not set');
  });

  it('finds every secret field of the config schema, in union options too', () => {
    expect(secretFieldPaths().map((p) => p.join('.')).sort()).toEqual(
      expect.arrayContaining(['pii.hash_key', 'sources.amplitude.api_key', 'sources.amplitude.secret_key', 'sources.mixpanel.service_account_secret', 'sources.posthog.personal_api_key', 'warehouse.password']),
    );
    const config = configSchema.parse({ sources: { amplitude: { api_key: 'FAKE-amp-0000' }, posthog: { project_id: 12 } }, pii: { hash_key: 'FAKE-pii-key-0000-0000' } });
    expect(configSecretValues(config).sort()).toEqual(['FAKE-amp-0000', 'FAKE-pii-key-0000-0000']);
  });
});
