// The process_* families that Prometheus client libraries conventionally export (memory, CPU,
// file descriptors, start time), read from the kernel at each scrape, and vendo_build_info.
#pragma once

#include <prometheus/metric_family.h>

#include <string_view>
#include <vector>

namespace vendo::metrics {

std::vector<prometheus::MetricFamily> ProcessFamilies(std::string_view version);

}  // namespace vendo::metrics
