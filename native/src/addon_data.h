// Per-environment state of the addon (one per Node main thread or worker), kept as instance data.
#ifndef BATON_NATIVE_ADDON_DATA_H_
#define BATON_NATIVE_ADDON_DATA_H_

#include <napi.h>

namespace baton {

struct AddonData {
  Napi::FunctionReference process_watch_class;
};

}  // namespace baton

#endif  // BATON_NATIVE_ADDON_DATA_H_
