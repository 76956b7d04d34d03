// The `peerCredentials` export.
#ifndef BATON_NATIVE_PEER_CREDENTIALS_EXPORT_H_
#define BATON_NATIVE_PEER_CREDENTIALS_EXPORT_H_

#include <napi.h>

namespace baton {

// peerCredentials(fd: number): { pid, uid, gid }. Synchronous: one getsockopt.
Napi::Value GetPeerCredentials(const Napi::CallbackInfo& info);

}  // namespace baton

#endif  // BATON_NATIVE_PEER_CREDENTIALS_EXPORT_H_
