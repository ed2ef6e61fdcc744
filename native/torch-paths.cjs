// Prints the include directories, library directories or compile flags for libtorch, for binding.gyp.
// LIBTORCH=/path/to/libtorch (a pytorch.org build, CPU or CUDA) overrides Debian's libtorch-dev.
//   include | libdirs | cuda | abi   as before
//   dist      the process-group flags for native/src/dist.cc: -DPACER_GLOO when the gloo headers are
//             found (Debian: libgloo-dev; pytorch.org: LIBTORCH/include/gloo or GLOO_INCLUDE_DIR), and
//             -DPACER_NCCL with the nccl.h and CUDA runtime include dirs when the libtorch has CUDA
//             and both headers are found (NCCL_INCLUDE_DIR, CUDA_HOME, or pip's nvidia/* packages)
//   distlibs  the libraries those need beyond libtorch (Debian's libgloo; c10_cuda for NCCL)
//   features  -DPACER_FUSED_ADAMW when the headers declare at::_fused_adamw_ (libtorch 2.x)
const fs = require('node:fs');
const path = require('node:path');
const root = process.env.LIBTORCH;
const what = process.argv[2];
let inc, lib;
if (root) {
  inc = [path.join(root, 'include'), path.join(root, 'include/torch/csrc/api/include')];
  lib = [path.join(root, 'lib')];
} else {
  inc = ['/usr/include', '/usr/include/torch/csrc/api/include'];
  lib = [];
}
for (const d of inc)
  if (!fs.existsSync(d)) {
    console.error(`libtorch include dir missing: ${d}`);
    process.exit(1);
  }
const hasCuda = lib.some((d) => fs.existsSync(path.join(d, 'libtorch_cuda.so')));
const firstWith = (dirs, file) => dirs.filter(Boolean).find((d) => fs.existsSync(path.join(d, file))) ?? null;

function glooInclude() {
  return firstWith([process.env.GLOO_INCLUDE_DIR, inc[0]], 'gloo/algorithm.h');
}

function ncclIncludes() {
  if (!hasCuda) return null;
  const cudaHome = process.env.CUDA_HOME || process.env.CUDA_PATH || '/usr/local/cuda';
  // a pip-installed torch (LIBTORCH=.../site-packages/torch) has its CUDA headers in nvidia/* beside it
  const site = root ? path.dirname(path.resolve(root)) : null;
  const nccl = firstWith(
    [
      process.env.NCCL_INCLUDE_DIR,
      inc[0],
      path.join(cudaHome, 'include'),
      site && path.join(site, 'nvidia/nccl/include'),
    ],
    'nccl.h',
  );
  const cudart = firstWith(
    [inc[0], path.join(cudaHome, 'include'), site && path.join(site, 'nvidia/cuda_runtime/include')],
    'cuda_runtime_api.h',
  );
  return nccl && cudart ? [...new Set([nccl, cudart])] : null;
}

if (what === 'include') console.log(inc.join(' '));
else if (what === 'libdirs') console.log(lib.map((d) => `-L${d} -Wl,-rpath,${d}`).join(' '));
else if (what === 'cuda') {
  console.log(hasCuda ? '-Wl,--no-as-needed -ltorch_cuda -Wl,--as-needed' : '');
} else if (what === 'abi') {
  console.log(process.env.LIBTORCH_CXX11_ABI === '0' ? '-D_GLIBCXX_USE_CXX11_ABI=0' : '');
} else if (what === 'dist') {
  const flags = [];
  const g = glooInclude();
  if (g) flags.push('-DUSE_C10D_GLOO', '-DPACER_GLOO', ...(g !== inc[0] ? [`-I${g}`] : []));
  const n = ncclIncludes();
  if (n) flags.push('-DUSE_C10D_NCCL', '-DPACER_NCCL', ...n.map((d) => `-I${d}`));
  console.log(flags.join(' '));
} else if (what === 'features') {
  console.log(fs.existsSync(path.join(inc[0], 'ATen/ops/_fused_adamw.h')) ? '-DPACER_FUSED_ADAMW' : '');
} else if (what === 'distlibs') {
  const debianGloo = !root && fs.existsSync('/usr/include/gloo/algorithm.h');
  console.log([debianGloo ? '-lgloo' : '', ncclIncludes() ? '-lc10_cuda' : ''].filter(Boolean).join(' '));
}
