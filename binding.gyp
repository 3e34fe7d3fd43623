{
  "targets": [
    {
      "target_name": "weft",
      "sources": [
        "native/binding.cc",
        "native/registry.cc",
        "native/parker.cc",
        "native/handle.cc",
        "native/napi_util.cc",
        "native/channel.cc",
        "native/select.cc",
        "native/thread_ctx.cc",
        "native/js_channel.cc",
        "native/timer.cc",
        "native/context.cc",
        "native/js_time.cc",
        "native/mutex.cc",
        "native/sema.cc",
        "native/atomic.cc",
        "native/js_sync.cc",
        "native/js_atomic.cc",
        "native/deadlock.cc",
        "native/sab.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=c++17"],
      "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-O2", "-fexceptions"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
