// Output of the admin commands: a table for people (columns sized to a header), or JSON for
// scripts (--json). Lists are written row by row as they are read, never held whole.
#pragma once

#include <boost/json.hpp>
#include <cstdio>
#include <string>
#include <vector>

namespace vendo::cli {

struct Column {
  std::string key;  // the JSON field
  std::string title;
  int width;
};

class ListOutput {
 public:
  ListOutput(bool json, std::vector<Column> columns);
  ~ListOutput();  // closes the JSON array, or says how many rows the table had
  void Row(const boost::json::object& row);
  std::size_t rows() const { return rows_; }

 private:
  bool json_;
  std::vector<Column> columns_;
  std::size_t rows_ = 0;
};

// One record: "key: value" lines, or a JSON object.
void PrintRecord(bool json, const boost::json::object& record);

// A JSON value as table text: strings bare, null as "-".
std::string Cell(const boost::json::value& v);

}  // namespace vendo::cli
