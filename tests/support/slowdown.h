// RIVULET_TEST_SLOWDOWN: sanitizers slow every memory access several times, so loops that size
// themselves for a release build shrink by this factor under them.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define RIVULET_TEST_SLOWDOWN 10
#elif defined(__SANITIZE_ADDRESS__)
#define RIVULET_TEST_SLOWDOWN 4
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RIVULET_TEST_SLOWDOWN 10
#elif __has_feature(address_sanitizer)
#define RIVULET_TEST_SLOWDOWN 4
#endif
#endif
#ifndef RIVULET_TEST_SLOWDOWN
#define RIVULET_TEST_SLOWDOWN 1
#endif
