{
  "variables": {
    "weft_parker%": "<!(node -p \"process.env.WEFT_PARKER || 'native'\")"
  },
  "targets": [
    {
      "target_name": "weft",
      "sources": [
        "native/core/blocked.cc",
        "native/core/chan/channel.cc",
        "native/core/chan/rendezvous.cc",
        "native/core/chan/ring.cc",
        "native/core/chan/ring_many.cc",
        "native/core/chan/ring_peek.cc",
        "native/core/chan/select.cc",
        "native/core/park/async_op.cc",
        "native/core/park/parker.cc",
        "native/core/park/parker_darwin.cc",
        "native/core/park/parker_futex.cc",
        "native/core/park/parker_portable.cc",
        "native/core/park/parker_windows.cc",
        "native/core/runtime/tasks.cc",
        "native/core/shared.cc",
        "native/core/sync/atomic.cc",
        "native/core/sync/block.cc",
        "native/core/sync/cond.cc",
        "native/core/sync/mutex.cc",
        "native/core/sync/once.cc",
        "native/core/sync/semaphore.cc",
        "native/core/sync/rate.cc",
        "native/core/sync/wait_group.cc",
        "native/core/time/context.cc",
        "native/core/time/timer.cc",
        "native/node/addon.cc",
        "native/node/bind_atomic.cc",
        "native/node/bind_chan.cc",
        "native/node/bind_many.cc",
        "native/node/send_record.cc",
        "native/node/bind_context.cc",
        "native/node/bind_dump.cc",
        "native/node/bind_mutex.cc",
        "native/node/bind_payload.cc",
        "native/node/bind_runtime.cc",
        "native/node/bind_select.cc",
        "native/node/bind_sync.cc",
        "native/node/bind_rate.cc",
        "native/node/bind_timer.cc",
        "native/node/deadlock.cc",
        "native/node/handle.cc",
        "native/node/marshal.cc",
        "native/node/napi_util.cc",
        "native/node/recv_value.cc",
        "native/node/thread_ctx.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-std=gnu++17",
        "-std=c++17"
      ],
      "cflags_cc": [
        "-std=c++20",
        "-Wall",
        "-Wextra",
        "-O2",
        "-fexceptions"
      ],
      "cflags": [
        "-Wall",
        "-Wextra"
      ],
      "conditions": [
        [
          "weft_parker=='portable'",
          {
            "defines": [
              "WEFT_PARKER_PORTABLE"
            ]
          }
        ],
        [
          "OS=='mac'",
          {
            "xcode_settings": {
              "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
              "CLANG_CXX_LIBRARY": "libc++",
              "MACOSX_DEPLOYMENT_TARGET": "11.0",
              "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
              "WARNING_CFLAGS": [
                "-Wall",
                "-Wextra"
              ]
            }
          }
        ],
        [
          "OS=='win'",
          {
            "defines": [
              "_WIN32_WINNT=0x0A00",
              "WIN32_LEAN_AND_MEAN",
              "NOMINMAX"
            ],
            "msvs_settings": {
              "VCCLCompilerTool": {
                "AdditionalOptions": [
                  "/std:c++20"
                ],
                "ExceptionHandling": 1
              },
              "VCLinkerTool": {
                "AdditionalDependencies": [
                  "synchronization.lib"
                ]
              }
            }
          }
        ]
      ]
    }
  ]
}
