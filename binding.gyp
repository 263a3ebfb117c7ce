# node-gyp alternative to CMakeLists.txt (npm run build:native:gyp). LibTorch comes from LIBTORCH (an unpacked LibTorch
# folder); without it, from the system prefix /usr (Debian's libtorch-dev). TORCH_CXX11_ABI=0 matches the old
# pre-cxx11-ABI LibTorch downloads. OpenMP (every file gets the flag, as in CMakeLists.txt, so at::parallel_for
# runs multi-threaded wherever it is called) links the system libgomp, which is LibTorch's own on Debian; CMakeLists.txt also finds the copy a pip
# wheel bundles; -fno-math-errno lets the fused AdamW loop vectorise its square roots. It compiles as C++17, so LibTorch
# 2.12 and later (C++20 headers) need the CMake build.
{
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || '/usr'\")",
    "cxx11_abi%": "<!(node -p \"process.env.TORCH_CXX11_ABI || '1'\")"
  },
  "targets": [
    {
      "target_name": "torchmotion",
      "sources": ["<!@(node -p \"require('fs').readdirSync('native', { recursive: true }).filter(f => f.endsWith('.cc')).map(f => 'native/' + f.split(require('path').sep).join('/')).join(' ')\")"],
      "include_dirs": [
        "native",
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(libtorch)/include",
        "<(libtorch)/include/torch/csrc/api/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GLIBCXX_USE_CXX11_ABI=<(cxx11_abi)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-Wall", "-Wextra"],
      "libraries": ["-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib", "-ltorch", "-ltorch_cpu", "-lc10"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "GCC_ENABLE_CPP_RTTI": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_LDFLAGS": ["-Wl,-rpath,<(libtorch)/lib"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] }
      },
      "conditions": [
        ["OS=='linux'", { "cflags_cc": ["-fopenmp", "-fno-math-errno"], "ldflags": ["-fopenmp"] }]
      ]
    }
  ]
}
