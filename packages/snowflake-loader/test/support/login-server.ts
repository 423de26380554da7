// A loopback HTTP server that answers snowflake-sdk's login and query requests (facts in
// /work/shared/notes/snowflake-protocol.md) and records them, to check what the real driver sends.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedLogin {
  readonly query: URLSearchParams;
  readonly data: Record<string, unknown>;
}
export interface RecordedQuery {
  readonly sqlText: string;
  readonly bindings?: Record<string, { type: string; value: unknown }>;
}
export interface LoginServer {
  readonly url: string;
  readonly logins: RecordedLogin[];
  readonly queries: RecordedQuery[];
  readonly sessionsDeleted: () => number;
  /** Answer for a statement; default: success with no rows. */
  answer: (sqlText: string) => { error?: { code: string; message: string; sqlState: string } } | undefined;
  /** Fail logins with this code, e.g. 390100. */
  failLogin?: string;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let raw = Buffer.concat(chunks);
  if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
  return raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
}

export async function startLoginServer(): Promise<LoginServer> {
  let deleted = 0;
  let queryCount = 0;
  const state: LoginServer = {
    url: '',
    logins: [],
    queries: [],
    sessionsDeleted: () => deleted,
    answer: () => undefined,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const payload = (await body(req)) as Record<string, unknown>;
      const send = (json: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (url.pathname === '/session/v1/login-request') {
        state.logins.push({ query: url.searchParams, data: payload.data as Record<string, unknown> });
        if (state.failLogin) return send({ success: false, code: state.failLogin, message: 'Incorrect username or password was specified.', data: null });
        return send({ success: true, data: { token: 'S', masterToken: 'M', validityInSeconds: 3600, masterValidityInSeconds: 14400, sessionId: 1, parameters: [] } });
      }
      if (url.pathname === '/queries/v1/query-request') {
        const sqlText = String(payload.sqlText);
        state.queries.push({ sqlText, ...(payload.bindings ? { bindings: payload.bindings as RecordedQuery['bindings'] } : {}) });
        const queryId = `q-${++queryCount}`;
        const answer = state.answer(sqlText);
        if (answer?.error) {
          return send({ success: false, code: answer.error.code, message: answer.error.message, data: { sqlState: answer.error.sqlState, queryId } });
        }
        return send({
          success: true,
          data: { queryId, rowtype: [{ name: 'status', type: 'text', nullable: true, length: 100, scale: null, precision: null }], rowset: [], returned: 0, total: 0 },
        });
      }
      if (url.pathname === '/session' && url.searchParams.get('delete') === 'true') {
        deleted++;
        return send({ success: true });
      }
      return send({ success: true, data: {} });
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
