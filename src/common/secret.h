// SecretString: a string that is wiped when destroyed and cannot be streamed or formatted,
// so a secret cannot reach a log line by accident. Read it with Reveal().
#pragma once

#include <openssl/crypto.h>

#include <string>
#include <string_view>
#include <utility>

namespace vendo {

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  SecretString(const SecretString&) = default;
  SecretString& operator=(const SecretString& other) {
    if (this != &other) {
      Wipe();
      value_ = other.value_;
    }
    return *this;
  }
  SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  SecretString& operator=(SecretString&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
      other.Wipe();
    }
    return *this;
  }
  ~SecretString() { Wipe(); }

  std::string_view Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend bool operator==(const SecretString&, const SecretString&) = default;

 private:
  void Wipe() {
    if (!value_.empty()) {
      OPENSSL_cleanse(value_.data(), value_.size());
    }
    value_.clear();
  }
  std::string value_;
};

}  // namespace vendo
