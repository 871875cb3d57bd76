/**
 * Test helper: enough of the S3 REST API for the AWS SDK with `forcePathStyle: true` — ListObjectsV2
 * (`GET /<bucket>?list-type=2&prefix=&max-keys=&continuation-token=`, XML, paged) and GetObject
 * (`GET /<bucket>/<key>`), with S3's XML errors (NoSuchBucket, NoSuchKey, InvalidAccessKeyId). Requests must be
 * SigV4-signed with the expected access key id (the signature itself is not checked). Faults come from
 * FakeVendorServer: 500, 503 SlowDown (use `s3Error`), a reset mid-body, a body cut short.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { FakeVendorServer, type FakeResponse } from './fake-vendor-server.js';

export interface FakeS3Options {
  readonly bucket: string;
  readonly accessKeyId: string;
  /** Key → body. Mutable: tests add objects (a new sync) between runs. */
  readonly objects: Map<string, Buffer>;
  /** LastModified per key (default 2024-03-10T04:00Z + the order of insertion in minutes). */
  readonly lastModified?: Map<string, Date>;
  /** Keys per page (S3's maximum is 1000). */
  readonly pageSize?: number;
}

export function s3Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>FAKE</RequestId></Error>`;
}

const xml = (status: number, body: string): FakeResponse => ({ status, headers: { 'content-type': 'application/xml' }, body });
const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function startS3Fake(options: FakeS3Options): Promise<FakeVendorServer> {
  const base = Date.parse('2024-03-10T04:00:00Z');
  const modified = (key: string): Date => options.lastModified?.get(key) ?? new Date(base + [...options.objects.keys()].indexOf(key) * 60_000);
  return FakeVendorServer.start((req): FakeResponse => {
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('AWS4-HMAC-SHA256 ') || !auth.includes(`Credential=${options.accessKeyId}/`)) {
      return xml(403, s3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'));
    }
    const [, bucket, ...rest] = req.path.split('/');
    if (bucket !== options.bucket) return xml(404, s3Error('NoSuchBucket', 'The specified bucket does not exist'));
    const key = decodeURIComponent(rest.join('/'));
    if (key === '' && req.query.get('list-type') === '2') {
      const prefix = req.query.get('prefix') ?? '';
      const max = Math.min(Number(req.query.get('max-keys') ?? 1000), options.pageSize ?? 1000);
      const after = req.query.get('continuation-token') ?? '';
      const keys = [...options.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = keys.slice(0, max);
      const truncated = keys.length > page.length;
      const contents = page
        .map((k) => `<Contents><Key>${escape(k)}</Key><LastModified>${modified(k).toISOString()}</LastModified><ETag>"${createHash('md5').update(options.objects.get(k)!).digest('hex')}"</ETag><Size>${options.objects.get(k)!.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`)
        .join('');
      return xml(
        200,
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${escape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${truncated ? `<NextContinuationToken>${escape(page.at(-1)!)}</NextContinuationToken>` : ''}</ListBucketResult>`,
      );
    }
    const body = options.objects.get(key);
    if (body === undefined) return xml(404, s3Error('NoSuchKey', 'The specified key does not exist.'));
    return {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', etag: `"${createHash('md5').update(body).digest('hex')}"`, 'last-modified': modified(key).toUTCString() },
      body,
    };
  });
}

/** Every file of a folder as objects under `prefix` (a bucket copy written by the Heap fixtures). */
export function objectsFromFolder(folder: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(`${prefix}${relative(folder, path).split(sep).join('/')}`, readFileSync(path));
    }
  };
  walk(folder);
  return out;
}
