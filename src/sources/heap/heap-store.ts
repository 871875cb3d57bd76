/**
 * Where a Heap Connect sync is read from: the `heap-rs3-…` S3 bucket through the official AWS SDK (ListObjectsV2 and
 * GetObject; endpoint, region and path-style addressing configurable; credentials given, or the SDK's default
 * chain), or a local folder a team already syncs (`aws s3 sync`). Both answer the same two questions — which
 * objects lie under a prefix, with their sizes, and the bytes of one — so the exporter is written once.
 *
 * Every S3 failure becomes a UsageLabError that says what to do: refused credentials (exit 3), a wrong bucket or
 * region (exit 2), a missing object (the sync fails, exit 5), and transient ones (5xx, SlowDown, resets, timeouts)
 * that the caller retries with backoff. A download must deliver exactly the size the listing gave.
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { authError, transientError, windowError } from '../export/export-errors.js';
import { spoolStream, type SealedSpool } from '../export/sealed-spool.js';

export interface StoredObject {
  /** Key below the store's root (bucket prefix or folder), `/`-separated: `sync_852/pageviews/part-0.avro`. */
  readonly key: string;
  readonly size: number;
  /** Epoch ms. */
  readonly lastModified: number;
}

export interface HeapStore {
  /** `s3://bucket/prefix/` or the folder, for messages. */
  readonly where: string;
  /** Objects under `prefix`; with `limit`, at most that many (one request on S3: the cheap check). */
  list(prefix: string, signal?: AbortSignal, limit?: number): Promise<StoredObject[]>;
  /**
   * Downloads the object into a sealed spool in `dir` (it is not masked yet, so it never lies on disk in clear);
   * its size must equal `expectedSize`. The caller disposes of the spool.
   */
  download(key: string, dir: string, expectedSize: number, onBytes: (n: number) => void, signal?: AbortSignal): Promise<SealedSpool>;
  /** The whole object as text (manifests). */
  readText(key: string, signal?: AbortSignal): Promise<string>;
  close(): void;
}

export interface S3StoreOptions {
  readonly bucket: string;
  /** Key prefix of the Heap folders inside the bucket ('' or ending in '/'). */
  readonly prefix: string;
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly forcePathStyle: boolean;
  /** Explicit keys; absent: the SDK's default chain (environment, shared config, SSO, instance role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string | undefined } | undefined;
  /** Names of the credential settings, for hints. */
  readonly origins: string;
  readonly timeoutMs: number;
}

function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _e, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

function shortDownload(key: string, got: number, expected: number): UsageLabError {
  return transientError('export_file_short', `${key}: received ${got} bytes, the listing says ${expected}`, { hint: 'the download was cut off; it is fetched again' });
}

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
}

const NETWORK = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|ECONNABORTED|EHOSTUNREACH|ENETUNREACH|socket hang up|aborted|premature close|TimeoutError|RequestTimeout/i;
const AUTH_CODES = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'CredentialsProviderError', 'AccountProblem']);
const REGION_CODES = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);

/** An SDK or stream error as the export's taxonomy. */
export function explainS3Error(err: unknown, what: string, options: { bucket: string; origins: string; missingIsFile: boolean }): UsageLabError {
  if (err instanceof UsageLabError) return err;
  const e = (err ?? {}) as AwsErrorShape;
  const name = e.name ?? e.code ?? '';
  const status = e.$metadata?.httpStatusCode;
  const message = `${what}: ${name === '' ? '' : `${name}: `}${e.message ?? String(err)}`.slice(0, 500);
  if (AUTH_CODES.has(name) || status === 401 || status === 403 || /Could not load credentials/i.test(e.message ?? '')) {
    return authError('Heap (S3)', status ?? 403, `check ${options.origins}: the keys must belong to an identity the bucket policy of ${options.bucket} allows to s3:ListBucket and s3:GetObject (Heap's S3 setup guide gives the policy)`);
  }
  if (name === 'NoSuchBucket') {
    return new UsageLabError('export_request_rejected', `${what}: the bucket ${options.bucket} does not exist`, {
      exitCode: EXIT.usage,
      hint: 'check sources.heap.s3_bucket (Heap names it heap-rs3-<something>) and sources.heap.s3_endpoint',
      place: { source: 'heap', field: 'sources.heap.s3_bucket' },
    });
  }
  if (REGION_CODES.has(name) || status === 301) {
    return new UsageLabError('export_request_rejected', `${what}: the bucket ${options.bucket} is in another region (${name || `HTTP ${status}`})`, {
      exitCode: EXIT.usage,
      hint: "set sources.heap.s3_region to the bucket's region (the S3 console shows it; Heap writes from us-east-1)",
      place: { source: 'heap', field: 'sources.heap.s3_region' },
    });
  }
  if (name === 'NoSuchKey' || (status === 404 && options.missingIsFile)) {
    return windowError('export_file_missing', `${what}: the object is missing from the bucket`, {
      hint: 'Heap lists every file of a finished sync in its manifest; the object was deleted or never written — ask Heap support to resync the dump',
    });
  }
  if (/ENOTFOUND/.test(name + (e.message ?? ''))) {
    return new UsageLabError('export_host_unreachable', `${what}: the S3 host was not found`, {
      exitCode: EXIT.unavailable,
      hint: 'check sources.heap.s3_endpoint / s3_region and the network',
      cause: err,
    });
  }
  if ((status !== undefined && (status >= 500 || status === 429 || status === 408)) || name === 'SlowDown' || e.$fault === 'server' || NETWORK.test(name) || NETWORK.test(e.message ?? '')) {
    return transientError('export_remote_unavailable', message, { exitCode: EXIT.unavailable, hint: 'S3 kept failing; run the export again later (done syncs are kept)', cause: err });
  }
  return windowError('export_request_rejected', message, { hint: 'S3 refused the request; check the sources.heap settings', cause: err });
}

/** The bucket, through the AWS SDK (loaded on first use: it is large, and most commands never need it). */
export async function openS3Store(options: S3StoreOptions): Promise<HeapStore> {
  // usagelab supports Node 20 (package.json engines) with the SDK version its lock pins; the SDK's notice that
  // versions from 2027 on will need Node 22 is noise on every run. The SDK's own switch, only when unset.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { S3Client, ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle,
    ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
    // Retries are the exporter's (backoff with jitter, counted in the progress); the SDK tries once.
    maxAttempts: 1,
    requestHandler: { requestTimeout: options.timeoutMs, connectionTimeout: options.timeoutMs },
  });
  const root = options.prefix;
  const explain = (err: unknown, what: string, missingIsFile: boolean): UsageLabError => explainS3Error(err, what, { bucket: options.bucket, origins: options.origins, missingIsFile });
  const where = `s3://${options.bucket}/${root}`;

  const getBody = async (key: string, signal: AbortSignal | undefined): Promise<{ body: Readable; length: number | undefined }> => {
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: options.bucket, Key: `${root}${key}` }), { abortSignal: signal });
      if (res.Body === undefined) throw transientError('export_file_short', `${where}${key}: S3 answered without a body`, { hint: 'fetched again' });
      return { body: res.Body as Readable, length: res.ContentLength };
    } catch (err) {
      throw explain(err, `${where}${key}`, true);
    }
  };

  return {
    where,
    async list(prefix, signal, limit) {
      const out: StoredObject[] = [];
      const seen = new Set<string>();
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(new ListObjectsV2Command({ Bucket: options.bucket, Prefix: `${root}${prefix}`, ...(limit === undefined ? {} : { MaxKeys: limit }), ...(token === undefined ? {} : { ContinuationToken: token }) }), { abortSignal: signal });
        } catch (err) {
          throw explain(err, `listing ${where}${prefix}`, false);
        }
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined || !o.Key.startsWith(root)) continue;
          out.push({ key: o.Key.slice(root.length), size: Number(o.Size ?? 0), lastModified: o.LastModified?.getTime() ?? 0 });
        }
        token = page.IsTruncated === true && (limit === undefined || out.length < limit) ? page.NextContinuationToken : undefined;
        if (token !== undefined) {
          // A server that hands back a token it gave before would page forever.
          if (seen.has(token)) throw transientError('export_incomplete', `listing ${where}${prefix}: S3 repeated a continuation token`, { hint: 'the listing is fetched again' });
          seen.add(token);
        }
      } while (token !== undefined);
      return out;
    },
    async download(key, dir, expectedSize, onBytes, signal) {
      const { body, length } = await getBody(key, signal);
      let got = 0;
      let spool: SealedSpool;
      try {
        spool = await spoolStream(dir, basename(key), [body, counter((n) => {
          got += n;
          onBytes(n);
        })], signal);
      } catch (err) {
        throw explain(err, `${where}${key}: download`, true);
      }
      if (got !== expectedSize || (length !== undefined && got !== length)) {
        spool.dispose();
        throw shortDownload(`${where}${key}`, got, expectedSize);
      }
      return spool;
    },
    async readText(key, signal) {
      const { body } = await getBody(key, signal);
      const chunks: Buffer[] = [];
      try {
        for await (const c of body) chunks.push(c as Buffer);
      } catch (err) {
        throw explain(err, `${where}${key}`, true);
      }
      return Buffer.concat(chunks).toString('utf8');
    },
    close: () => client.destroy(),
  };
}

/** A folder holding a copy of the bucket (`manifests/`, `sync_<id>/…`). */
export function openFolderStore(folder: string): HeapStore {
  const where = folder.endsWith(sep) ? folder : `${folder}${sep}`;
  const missing = (key: string): UsageLabError =>
    windowError('export_file_missing', `${join(folder, key)} is listed in the Heap manifest but missing`, {
      hint: 'the folder copy of the bucket is incomplete: sync it again (e.g. `aws s3 sync s3://<bucket>/ <folder>`)',
      place: { file: join(folder, key) },
    });
  return {
    where,
    async list(prefix, _signal, limit) {
      if (!existsSync(folder) || !statSync(folder).isDirectory()) {
        throw new UsageLabError('export_request_rejected', `${folder} is not a folder`, {
          exitCode: EXIT.usage,
          hint: 'sources.heap.local_path must name the folder holding the copy of the Heap Connect bucket (manifests/ and sync_<id>/)',
          place: { source: 'heap', field: 'sources.heap.local_path' },
        });
      }
      const out: StoredObject[] = [];
      const start = join(folder, ...prefix.split('/').filter((p) => p !== ''));
      const walk = (dir: string): void => {
        if (!existsSync(dir)) return;
        for (const name of readdirSync(dir).sort()) {
          const path = join(dir, name);
          const st = statSync(path);
          if (st.isDirectory()) walk(path);
          else out.push({ key: relative(folder, path).split(sep).join('/'), size: st.size, lastModified: st.mtimeMs });
        }
      };
      walk(start);
      const found = out.filter((o) => o.key.startsWith(prefix));
      return limit === undefined ? found : found.slice(0, limit);
    },
    async download(key, dir, expectedSize, onBytes) {
      const source = join(folder, ...key.split('/'));
      if (!existsSync(source)) throw missing(key);
      let got = 0;
      const spool = await spoolStream(dir, basename(key), [createReadStream(source), counter((n) => {
        got += n;
        onBytes(n);
      })]);
      if (got !== expectedSize) {
        spool.dispose();
        throw shortDownload(source, got, expectedSize);
      }
      return spool;
    },
    async readText(key) {
      const source = join(folder, ...key.split('/'));
      if (!existsSync(source)) throw missing(key);
      const chunks: Buffer[] = [];
      for await (const c of createReadStream(source)) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    close: () => undefined,
  };
}
