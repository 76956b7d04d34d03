# Builds the baton_native addon (build/Release/baton_native.node) from native/src.
{
  'targets': [
    {
      'target_name': 'baton_native',
      'sources': [
        'native/src/addon.cc',
        'native/src/args.cc',
        'native/src/core_call_worker.cc',
        'native/src/errors.cc',
        'native/src/kvm_probe.cc',
        'native/src/kvm_probe_worker.cc',
        'native/src/memfd_area.cc',
        'native/src/memfd_area_exports.cc',
        'native/src/peer_credentials.cc',
        'native/src/peer_credentials_export.cc',
        'native/src/pidfd.cc',
        'native/src/process_watch.cc',
        'native/src/syscall_error.cc',
      ],
      'dependencies': [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except",
      ],
      'defines': [
        'NAPI_VERSION=8',
        'NODE_ADDON_API_DISABLE_DEPRECATED',
      ],
      'cflags': ['-fvisibility=hidden', '-Wall', '-Wextra', '-Werror'],
      'cflags_cc!': ['-std=gnu++17', '-std=gnu++20'],
      'cflags_cc': ['-std=c++17'],
    },
  ],
}
