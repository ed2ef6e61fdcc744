// The leaderboard's fit (Bradley–Terry + bootstrap, about a second for 10,000 votes) in a worker
// thread, so the server keeps answering annotators meanwhile. It opens the project by its folder
// (SQLite in WAL mode lets it read beside the server's connection) and posts the ratings back.
import { parentPort, workerData } from 'node:worker_threads';
import { Project } from './project.js';
import { ratings } from './stats.js';

const { dir, rounds } = workerData as { dir: string; rounds: number };
let p: Project | null = null;
try {
  p = Project.openDir(dir);
  parentPort!.postMessage({ ok: ratings(p, rounds) });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
} finally {
  p?.close();
}
