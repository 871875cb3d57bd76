/**
 * The Google service account GA4 exports authenticate with: a JSON key, read from a file (`credentials_file`,
 * default GOOGLE_APPLICATION_CREDENTIALS) or from the key text itself in a variable (`credentials_json`, default
 * GA4_SERVICE_ACCOUNT_JSON — for CI secrets that cannot be files). Only service account keys are accepted: a
 * gcloud user login (authorized_user) would export with a person's rights and expire.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';

export interface ServiceAccountKey {
  readonly client_email: string;
  readonly private_key: string;
  readonly private_key_id?: string | undefined;
  readonly project_id?: string | undefined;
  /** Where access tokens come from; Google's keys say https://oauth2.googleapis.com/token. */
  readonly token_uri?: string | undefined;
}

export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

export interface KeySource {
  /** Path of the key file (relative paths are read from `root`). */
  readonly file?: string | undefined;
  /** The key file's text. */
  readonly json?: string | undefined;
  readonly root?: string | undefined;
  /** Where the value came from (a variable or config key), for messages. */
  readonly origin: string;
}

const HOW_TO =
  'create a key for a service account with BigQuery Data Viewer on the dataset and BigQuery Job User on the project ' +
  '(Google Cloud console > IAM & Admin > Service accounts > Keys > Add key > JSON), then point GOOGLE_APPLICATION_CREDENTIALS at the file ' +
  'or put its text in GA4_SERVICE_ACCOUNT_JSON (docs/sources/ga4.md)';

function invalid(message: string, origin: string, file?: string): UsageLabError {
  return new UsageLabError('ga4_credentials_invalid', message, {
    exitCode: EXIT.usage,
    hint: HOW_TO,
    place: { source: 'ga4', field: origin, ...(file === undefined ? {} : { file }) },
  });
}

export function parseServiceAccountKey(text: string, origin: string, file?: string): ServiceAccountKey {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(`${file ?? origin} is not a JSON key`, origin, file);
  }
  const key = data as Record<string, unknown> | null;
  if (key === null || typeof key !== 'object' || Array.isArray(key)) throw invalid(`${file ?? origin} is not a JSON key`, origin, file);
  if (key.type !== 'service_account') {
    const what = typeof key.type === 'string' ? `a credential of type "${key.type}"` : 'not a service account key';
    throw invalid(`${file ?? origin} is ${what}; GA4 exports need a service account key`, origin, file);
  }
  for (const field of ['client_email', 'private_key'] as const) {
    if (typeof key[field] !== 'string' || key[field] === '') throw invalid(`${file ?? origin} has no ${field}`, origin, file);
  }
  const text_ = (name: string): string | undefined => (typeof key[name] === 'string' && key[name] !== '' ? (key[name] as string) : undefined);
  return {
    client_email: key.client_email as string,
    private_key: key.private_key as string,
    private_key_id: text_('private_key_id'),
    project_id: text_('project_id'),
    token_uri: text_('token_uri'),
  };
}

export function readServiceAccountKey(source: KeySource): ServiceAccountKey {
  if (source.json !== undefined && source.json.trim() !== '') return parseServiceAccountKey(source.json, source.origin);
  if (source.file === undefined || source.file.trim() === '') {
    throw new UsageLabError('export_credentials_missing', 'GA4 credentials are not set: GOOGLE_APPLICATION_CREDENTIALS or GA4_SERVICE_ACCOUNT_JSON', {
      exitCode: EXIT.usage,
      hint: HOW_TO,
      place: { source: 'ga4', field: 'sources.ga4.credentials_file' },
    });
  }
  const path = isAbsolute(source.file) ? source.file : resolve(source.root ?? process.cwd(), source.file);
  if (!existsSync(path)) throw invalid(`the key file ${path} (${source.origin}) does not exist`, source.origin, path);
  return parseServiceAccountKey(readFileSync(path, 'utf8'), source.origin, path);
}
