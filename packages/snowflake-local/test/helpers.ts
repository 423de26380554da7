import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import snowflake from 'snowflake-sdk';
import type { SnowflakeLocal, StageFileSource } from '../src/index.js';

snowflake.configure({ logLevel: 'OFF' });

export type Row = Record<string, unknown>;

export interface Client {
  readonly connection: snowflake.Connection;
  exec(sqlText: string, binds?: snowflake.Binds, parameters?: Record<string, unknown>): Promise<Row[]>;
  /** Executes and returns the statement too (for getStatementId, getNumUpdatedRows, multi-statement). */
  statement(sqlText: string, binds?: snowflake.Binds, parameters?: Record<string, unknown>): Promise<{ statement: snowflake.RowStatement; rows: Row[] }>;
  close(): Promise<void>;
}

export async function connect(
  server: SnowflakeLocal,
  extra: Partial<snowflake.ConnectionOptions> = {},
): Promise<Client> {
  const connection = snowflake.createConnection({
    accessUrl: server.accessUrl,
    account: server.account,
    username: 'tester',
    password: randomUUID(), // the server accepts any login unless it was given users
    ...extra,
  } as snowflake.ConnectionOptions);
  await new Promise<void>((resolve, reject) => connection.connect((err) => (err ? reject(err) : resolve())));
  const statement = (sqlText: string, binds?: snowflake.Binds, parameters?: Record<string, unknown>) =>
    new Promise<{ statement: snowflake.RowStatement; rows: Row[] }>((resolve, reject) => {
      connection.execute({
        sqlText,
        ...(binds ? { binds } : {}),
        ...(parameters ? { parameters } : {}),
        complete: (err, stmt, rows) => (err ? reject(err) : resolve({ statement: stmt, rows: (rows ?? []) as Row[] })),
      });
    });
  return {
    connection,
    statement,
    exec: async (sqlText, binds, parameters) => (await statement(sqlText, binds, parameters)).rows,
    close: () => new Promise<void>((resolve, reject) => connection.destroy((err) => (err ? reject(err) : resolve()))),
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function failure(p: Promise<unknown>): Promise<Error & { code?: string; sqlState?: string; data?: { queryId?: string } }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string; sqlState?: string };
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** A directory-backed object store: the structural port the server reads stages through. */
export class DirectoryStore implements StageFileSource {
  private constructor(readonly root: string) {}
  static async create(): Promise<DirectoryStore> {
    return new DirectoryStore(await mkdtemp(path.join(tmpdir(), 'sfl-store-')));
  }
  async put(key: string, body: string | Buffer): Promise<void> {
    const file = path.join(this.root, key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, body);
  }
  async get(key: string): Promise<Readable> {
    const file = path.join(this.root, key);
    await readFile(file); // reject missing keys the way a store does
    return createReadStream(file);
  }
  async *list(prefix: string): AsyncIterable<{ key: string }> {
    const walk = async (dir: string): Promise<string[]> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return [];
      }
      const out: string[] = [];
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) out.push(...(await walk(full)));
        else out.push(path.relative(this.root, full).split(path.sep).join('/'));
      }
      return out;
    };
    for (const key of (await walk(this.root)).sort()) if (key.startsWith(prefix)) yield { key };
  }
  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
