// The memfd exports: memfdCreate, memfdWrite, memfdRead (synchronous), punchHole, scrubArea (promises).
#ifndef BATON_NATIVE_MEMFD_AREA_EXPORTS_H_
#define BATON_NATIVE_MEMFD_AREA_EXPORTS_H_

#include <napi.h>

namespace baton {

// memfdCreate(name: string, sizeBytes: number): number
Napi::Value MemfdCreate(const Napi::CallbackInfo& info);
// memfdWrite(fd: number, offsetBytes: number, data: Uint8Array): undefined
Napi::Value MemfdWrite(const Napi::CallbackInfo& info);
// memfdRead(fd: number, offsetBytes: number, lengthBytes: number): Buffer
Napi::Value MemfdRead(const Napi::CallbackInfo& info);
// punchHole(fd: number, offsetBytes: number, lengthBytes: number): Promise<undefined>
Napi::Value StartPunchHole(const Napi::CallbackInfo& info);
// scrubArea(fd: number, offsetBytes: number, lengthBytes: number): Promise<undefined>
Napi::Value StartScrubArea(const Napi::CallbackInfo& info);

}  // namespace baton

#endif  // BATON_NATIVE_MEMFD_AREA_EXPORTS_H_
