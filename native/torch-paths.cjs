// Prints the include directories, library directories or compile flags for libtorch, for binding.gyp.
// LIBTORCH=/path/to/libtorch (a pytorch.org build, CPU or CUDA) overrides Debian's libtorch-dev.
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
if (what === 'include') console.log(inc.join(' '));
else if (what === 'libdirs') console.log(lib.map((d) => `-L${d} -Wl,-rpath,${d}`).join(' '));
else if (what === 'cuda') {
  const hasCuda = lib.some((d) => fs.existsSync(path.join(d, 'libtorch_cuda.so')));
  console.log(hasCuda ? '-Wl,--no-as-needed -ltorch_cuda -Wl,--as-needed' : '');
} else if (what === 'abi') {
  console.log(process.env.LIBTORCH_CXX11_ABI === '0' ? '-D_GLIBCXX_USE_CXX11_ABI=0' : '');
}
