// The YAML config loader and validator on arbitrary text: it returns a config or errors, each
// with a position, and a config it accepts can be summarised (as --check does).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  const rivulet::config::LoadResult loaded = rivulet::config::loadString(yaml, "fuzz.yaml");
  if (!loaded.config) {
    if (loaded.errors.empty()) std::abort();  // refused without a reason
    for (const auto& e : loaded.errors) (void)e.toString();
    return 0;
  }
  (void)rivulet::config::summary(*loaded.config);
  return 0;
}
