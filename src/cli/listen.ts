// Serving from the command line: listen (port 0 picks a free one), print one JSON line that says
// where, and serve until SIGINT/SIGTERM. A port in use or an address that is not ours is a usage
// error with what to do.
import type { Server } from 'node:http';
import { UsageError } from './command.js';

/** Listen, print one JSON line describing the server, and serve until SIGINT/SIGTERM. */
export async function listenUntilSignal(server: Server, port: number, host: string, info: (port: number) => object) {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is in use (another server?); pick another with --port, or --port 0 for a free one`
          : e.code === 'EADDRNOTAVAIL'
            ? `${host} is not an address of this machine (--host)`
            : e.code === 'EACCES'
              ? `no permission to listen on ${host}:${port} (ports below 1024 need root)`
              : `cannot listen on ${host}:${port}: ${e.message}`;
      reject(new UsageError(why));
    });
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  console.log(JSON.stringify(info(typeof addr === 'object' && addr ? addr.port : port)));
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  server.close();
  server.closeAllConnections();
}
