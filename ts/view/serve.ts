// Serves one viewer page over HTTP on this machine (port 0: any free port).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

import { z } from 'zod';

import { TorchmotionError } from '../errors.js';

// Where a page is served: this machine only, on any free port. (The port's range is checked in serveViewer.)
export const serveSettings = z
  .object({
    port: z.number().default(0),
    host: z.string().default('127.0.0.1'),
  })
  .strict();

export interface ServedViewer {
  url: string;
  close(): Promise<void>;
}

export function serveViewer(html: string, o: { port?: number; host?: string } = {}): Promise<ServedViewer> {
  const { port, host } = serveSettings.parse({ port: o.port, host: o.host });
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(new TorchmotionError(`--port must be an integer from 0 to 65535, received ${port}`));
  }
  const page = Buffer.from(html, 'utf8');
  // Filled once listening: the Host values that name this server. Any other (a DNS-rebinding page's own name, say)
  // is refused, so a page elsewhere cannot read the viewer through the browser.
  const hosts = new Set<string>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!hosts.has((req.headers.host ?? '').toLowerCase())) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end(`this server answers only as ${[...hosts][0]}\n`);
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/' || path === '/index.html') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': page.length,
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : page);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the viewer is at /\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? `port ${port} is in use: pick another with --port, or --port 0 for any free one`
          : err.code === 'EADDRNOTAVAIL'
            ? `${host} is not an address of this machine: pick another with --host (e.g. 127.0.0.1)`
            : err.message;
      reject(new TorchmotionError(`cannot serve the viewer on ${host}:${port}: ${why}`, { cause: err }));
    });
    server.listen(port, host, () => {
      const { port: bound } = server.address() as AddressInfo;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      const names = [shownHost];
      if (['127.0.0.1', '::1', 'localhost'].includes(host)) names.push('localhost', '127.0.0.1', '[::1]');
      // A browser leaves the port out of Host when it is the scheme's default.
      for (const n of names)
        hosts.add(`${n}:${bound}`.toLowerCase()).add(bound === 80 ? n.toLowerCase() : `${n}:${bound}`.toLowerCase());
      // Bound to every interface: each of this machine's addresses (and its host name) is its own name.
      if (host === '0.0.0.0' || host === '::') {
        for (const list of Object.values(networkInterfaces())) {
          for (const a of list ?? [])
            hosts.add(`${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${bound}`.toLowerCase());
        }
        hosts.add(`localhost:${bound}`).add(`${hostname()}:${bound}`.toLowerCase());
        if (bound === 80) for (const h of [...hosts]) hosts.add(h.replace(/:80$/, ''));
      }
      resolve({
        url: `http://${shownHost}:${bound}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections(); // a browser's keep-alive connection would hold close() open
          }),
      });
    });
  });
}
