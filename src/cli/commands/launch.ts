// `pacer launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P] train
// CONFIG.yaml`: data-parallel training, with the workers started as torchrun starts them (launcher.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../launcher.js';
import { UsageError, defineCommand, int, num, str } from '../command.js';

export const launchCmd = defineCommand({
  name: 'launch',
  summary: 'data-parallel training: start N worker processes per node (torchrun-compatible), then train',
  usage:
    'pacer launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P] [--timeout S] ' +
    '[--rdzv-timeout S] ' +
    'train CONFIG.yaml [train options]',
  description: `Starts N workers of 'pacer train' on this node with torchrun's environment (RANK, WORLD_SIZE,
LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT). Rank 0 hosts the c10d TCPStore
rendezvous; the workers form a Gloo process group (NCCL on CUDA builds). Each optimizer step trains on
world_size x per_device_train_batch_size x gradient_accumulation_steps examples (online: prompts x
num_generations), shared out between the ranks; gradients are averaged; rank 0 writes metrics,
checkpoints, the model and the report. A run resumes with the same number of workers, or another one
whose per_device_train_batch_size or gradient_accumulation_steps keeps the global batch.

'pacer train' under torchrun, a Slurm wrapper or a Kubernetes operator that sets these variables works
the same way. Without 'threads' in the config, each worker uses cores / LOCAL_WORLD_SIZE threads.

SIGINT and SIGTERM are passed on to the workers. When a worker fails (an error, or killed), the others
are stopped and launch exits with its code (128 + signal number when killed), after one line naming
the rank and how it ended. A single node picks a free port (the kernel's choice for port 0) unless
--master-port is given; several nodes need --master-addr (node 0's address) and --master-port.`,
  positionals: true,
  passThrough: true,
  options: {
    'nproc-per-node': { type: 'string', arg: 'N', help: 'worker processes on this node', default: '1' },
    nnodes: { type: 'string', arg: 'M', help: 'nodes taking part', default: '1' },
    'node-rank': { type: 'string', arg: 'R', help: "this node's rank, 0..M-1", default: '0' },
    'master-addr': { type: 'string', arg: 'A', help: "address of node 0 (rank 0's rendezvous)", default: '127.0.0.1' },
    'master-port': { type: 'string', arg: 'P', help: 'port of the rendezvous', default: 'a free port' },
    timeout: {
      type: 'string',
      arg: 'S',
      help: 'seconds a collective (all-reduce, …) waits for a peer before the job fails',
      default: '1800',
    },
    'rdzv-timeout': { type: 'string', arg: 'S', help: 'seconds the rendezvous waits for every worker', default: '900' },
  },
  async run(v, positionals) {
    const nproc = int(v['nproc-per-node'], 'nproc-per-node', 1);
    const nnodes = int(v.nnodes, 'nnodes', 1);
    const nodeRank = int(v['node-rank'], 'node-rank', 0, 0);
    if (nodeRank >= nnodes) throw new UsageError(`--node-rank ${nodeRank} must be below --nnodes ${nnodes}`);
    const masterPort = v['master-port'] === undefined ? null : int(v['master-port'], 'master-port', 1);
    if (masterPort !== null && masterPort > 65535) throw new UsageError(`--master-port ${masterPort} is not a port`);
    if (nnodes > 1 && (masterPort === null || v['master-addr'] === undefined))
      throw new UsageError('several nodes need --master-addr (the address of node 0) and --master-port');
    const seconds = (name: string) => {
      const s = num(v[name], name);
      if (s !== undefined && !(s > 0)) throw new UsageError(`--${name} must be > 0, got '${v[name]}'`);
      return s;
    };
    const timeoutS = seconds('timeout');
    const rendezvousTimeoutS = seconds('rdzv-timeout');
    if (positionals[0] !== 'train')
      throw new UsageError(
        `launch runs 'train CONFIG.yaml' (got '${positionals.join(' ') || 'nothing'}'); e.g. pacer launch ` +
          '--nproc-per-node 2 train config.yaml',
      );
    const bin = join(dirname(fileURLToPath(import.meta.url)), '../../../bin/pacer.js');
    return launch({
      nprocPerNode: nproc,
      nnodes,
      nodeRank,
      masterAddr: str(v['master-addr']) ?? '127.0.0.1',
      masterPort,
      timeoutS,
      rendezvousTimeoutS,
      argv: [bin, ...positionals],
    });
  },
});
