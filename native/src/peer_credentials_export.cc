// Binds SO_PEERCRED: the core's credentials become a plain { pid, uid, gid } object.
#include "peer_credentials_export.h"

#include <napi.h>

#include "args.h"
#include "errors.h"
#include "peer_credentials.h"

namespace baton {

Napi::Value GetPeerCredentials(const Napi::CallbackInfo& info) {
  const int fd = ReadFd(info, 0, "peerCredentials");
  PeerCredentials credentials{};
  RunOrThrow(info.Env(), [&] { credentials = ReadPeerCredentials(fd); });
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("pid", Napi::Number::New(info.Env(), credentials.pid));
  result.Set("uid", Napi::Number::New(info.Env(), credentials.uid));
  result.Set("gid", Napi::Number::New(info.Env(), credentials.gid));
  return result;
}

}  // namespace baton
