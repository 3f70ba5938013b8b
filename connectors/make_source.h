// makeSource: the source of each kind, from its config. The one place that knows every kind.
#pragma once

#include <memory>

#include "config/config.h"
#include "connectors/sources/source.h"
#include "pipeline/event_router.h"

namespace rivulet::connectors {

// The source for `spec`. Throws std::runtime_error when it cannot start (a file that cannot be
// opened, a port in use); the message names the source.
std::unique_ptr<Source> makeSource(const config::SourceConfig& spec, pipeline::EventRouter router,
                                   const SourceContext& context = {});

}  // namespace rivulet::connectors
