/**
 * A plain HTTP server for GET routes (/healthz, /metrics) where no Slack receiver listens: a
 * `vipbot worker`. Anything else is 404; a route that throws is 500 with the reason in JSON.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  path: string;
  handler: () => Promise<{ status: number; contentType: string; body: string }>;
}

/** Writes a route's answer, or 500 with the reason in JSON when the handler throws. */
export function answerRoute(handler: Route['handler'], res: ServerResponse): void {
  handler().then(
    (out) => {
      res.writeHead(out.status, { 'content-type': out.contentType });
      res.end(out.body);
    },
    (err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) }));
    },
  );
}

export async function serveRoutes(port: number, routes: readonly Route[]): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = req.method === 'GET' ? routes.find((r) => r.path === path) : undefined;
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: `no ${req.method ?? ''} ${path ?? ''} here; try GET ${routes.map((r) => r.path).join(' or ')}` }));
      return;
    }
    answerRoute(route.handler, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
