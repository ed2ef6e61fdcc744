{
  "targets": [{
    "target_name": "pacer_native",
    "sources": ["src/addon.cc", "src/ops.cc", "src/dist.cc", "src/amp.cc"],
    "include_dirs": ["<!@(node -p \"require('node-addon-api').include_dir\")", "<!@(node torch-paths.cjs include)"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-frtti", "-Wno-unused-parameter", "-Wno-deprecated-declarations", "<!@(node torch-paths.cjs abi)", "<!@(node torch-paths.cjs dist)", "<!@(node torch-paths.cjs features)"],
    "libraries": ["<!@(node torch-paths.cjs libdirs)", "<!@(node torch-paths.cjs cuda)", "-ltorch", "-ltorch_cpu", "-lc10", "<!@(node torch-paths.cjs distlibs)", "-ldl"]
  }]
}
