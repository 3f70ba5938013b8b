#include "connectors/make_source.h"

#include "connectors/kafka/kafka_source.h"
#include "connectors/sources/file_source.h"
#include "connectors/sources/generator_source.h"
#include "connectors/sources/tcp_source.h"
#include "connectors/sources/udp_source.h"
#include "connectors/zmq/zmq_source.h"

namespace rivulet::connectors {

std::unique_ptr<Source> makeSource(const config::SourceConfig& spec, pipeline::EventRouter router,
                                   const SourceContext& context) {
  switch (spec.kind) {
    case config::SourceKind::kGenerator:
      return std::make_unique<GeneratorSource>(spec.generator, std::move(router));
    case config::SourceKind::kFile:
      return std::make_unique<FileSource>(spec, std::move(router));
    case config::SourceKind::kTcp:
      return std::make_unique<TcpSource>(spec, std::move(router), context.stats);
    case config::SourceKind::kUdp:
      return std::make_unique<UdpSource>(spec, std::move(router), context.stats);
    case config::SourceKind::kZmq:
      return std::make_unique<ZmqSource>(spec, std::move(router));
    case config::SourceKind::kKafka:
      return std::make_unique<KafkaSource>(spec, std::move(router), *context.commits, context.index,
                                           *context.kafka, context.checkpoints);
  }
  return nullptr;
}

}  // namespace rivulet::connectors
