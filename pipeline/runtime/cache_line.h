// The one destructive-interference constant of rivulet.
#pragma once

#include <cstddef>

namespace rivulet::pipeline {

// 128, not 64: on x86 the L2 adjacent-line prefetcher fetches cache lines in pairs, so two
// variables 64 bytes apart still false-share (folly lang/Align.h explains this in detail).
// std::hardware_destructive_interference_size is 64 on g++ 12 and warns when used in headers.
inline constexpr std::size_t kFalseSharingRange = 128;

}  // namespace rivulet::pipeline
