#include "cli/admin_output.h"

namespace vendo::cli {

std::string Cell(const boost::json::value& v) {
  if (v.is_null()) {
    return "-";
  }
  if (v.is_string()) {
    return std::string(v.as_string());
  }
  if (v.is_bool()) {
    return v.as_bool() ? "yes" : "no";
  }
  return boost::json::serialize(v);
}

ListOutput::ListOutput(bool json, std::vector<Column> columns)
    : json_(json), columns_(std::move(columns)) {
  if (json_) {
    std::printf("[");
    return;
  }
  std::string header;
  for (const auto& c : columns_) {
    header += c.title;
    header.append(static_cast<std::size_t>(std::max(1, c.width - static_cast<int>(c.title.size()))),
                  ' ');
  }
  while (!header.empty() && header.back() == ' ') {
    header.pop_back();
  }
  std::printf("%s\n", header.c_str());
}

ListOutput::~ListOutput() {
  if (json_) {
    std::printf(rows_ == 0 ? "]\n" : "\n]\n");
  } else if (rows_ == 0) {
    std::printf("(none)\n");
  }
  std::fflush(stdout);
}

void ListOutput::Row(const boost::json::object& row) {
  if (json_) {
    std::printf("%s\n  %s", rows_ == 0 ? "" : ",", boost::json::serialize(row).c_str());
  } else {
    std::string line;
    for (const auto& c : columns_) {
      const auto* v = row.if_contains(c.key);
      std::string text = v != nullptr ? Cell(*v) : "-";
      line += text;
      line.append(static_cast<std::size_t>(std::max(1, c.width - static_cast<int>(text.size()))),
                  ' ');
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    std::printf("%s\n", line.c_str());
  }
  ++rows_;
}

void PrintRecord(bool json, const boost::json::object& record) {
  if (json) {
    std::printf("%s\n", boost::json::serialize(record).c_str());
    return;
  }
  for (const auto& [k, v] : record) {
    if (v.is_array()) {
      std::printf("%s:\n", std::string(k).c_str());
      for (const auto& item : v.as_array()) {
        std::printf("  %s\n", Cell(item).c_str());
      }
      continue;
    }
    std::printf("%-12s %s\n", (std::string(k) + ":").c_str(), Cell(v).c_str());
  }
}

}  // namespace vendo::cli
