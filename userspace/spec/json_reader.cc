#include "spec/json_reader.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace shim::spec {
namespace {

using json = nlohmann::ordered_json;

// Builds the DOM while tracking the JSON pointer of every value, so duplicate keys can be
// reported where they are, and refusing nesting beyond kMaxJsonDepth before it is built.
class StrictDomBuilder {
 public:
  explicit StrictDomBuilder(std::vector<Diagnostic>& diagnostics) : diagnostics_(diagnostics) {}

  json TakeRoot() { return std::move(root_); }
  bool aborted() const { return aborted_; }

  // --- nlohmann SAX interface ---
  bool null() { return Value(nullptr); }
  bool boolean(bool value) { return Value(value); }
  bool number_integer(json::number_integer_t value) { return Value(value); }
  bool number_unsigned(json::number_unsigned_t value) { return Value(value); }
  bool number_float(json::number_float_t value, const json::string_t& /*text*/) {
    return Value(value);
  }
  bool string(json::string_t& value) { return Value(std::move(value)); }
  bool binary(json::binary_t& /*value*/) { return Value(nullptr); }  // never produced by text
  bool start_object(std::size_t /*size*/) { return Open(json::object()); }
  bool start_array(std::size_t /*size*/) { return Open(json::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(json::string_t& key) {
    Frame& frame = frames_.back();
    const std::string pointer = PointerAppend(frame.pointer, key);
    if (!frame.keys.insert(key).second) {
      diagnostics_.push_back({Severity::kError, pointer,
                              absl::StrCat("duplicate key \"", key, "\""),
                              "JSON parsers disagree on which copy wins; keep exactly one"});
    }
    frame.pending_key = std::move(key);
    return true;
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) {
    // Reported by the caller, which knows the text for line and column.
    syntax_error_ = error.what();
    syntax_error_offset_ = position > 0 ? position - 1 : 0;
    return false;
  }
  const std::string& syntax_error() const { return syntax_error_; }
  size_t syntax_error_offset() const { return syntax_error_offset_; }

 private:
  struct Frame {
    json* container;
    std::string pointer;
    std::string pending_key;
    absl::flat_hash_set<std::string> keys;
  };

  // Where the next value goes, and its pointer.
  std::pair<json*, std::string> Slot() {
    if (frames_.empty()) return {&root_, ""};
    Frame& frame = frames_.back();
    if (frame.container->is_object()) {
      return {&(*frame.container)[frame.pending_key], PointerAppend(frame.pointer, frame.pending_key)};
    }
    const std::string pointer = PointerAppend(frame.pointer, std::to_string(frame.container->size()));
    frame.container->push_back(nullptr);
    return {&frame.container->back(), pointer};
  }

  bool Value(json value) {
    *Slot().first = std::move(value);
    return true;
  }

  bool Open(json empty) {
    auto [slot, pointer] = Slot();
    if (frames_.size() >= kMaxJsonDepth) {
      diagnostics_.push_back({Severity::kError, pointer,
                              absl::StrCat("nesting deeper than ", kMaxJsonDepth, " levels"),
                              "a spec needs no more than a handful of levels"});
      aborted_ = true;
      return false;
    }
    *slot = std::move(empty);
    frames_.push_back(Frame{slot, std::move(pointer), "", {}});
    return true;
  }

  bool Close() {
    frames_.pop_back();
    return true;
  }

  std::vector<Diagnostic>& diagnostics_;
  json root_;
  std::vector<Frame> frames_;
  bool aborted_ = false;
  std::string syntax_error_;
  size_t syntax_error_offset_ = 0;
};

// 1-based line and column of byte `offset` in `text`.
std::pair<size_t, size_t> LineColumn(absl::string_view text, size_t offset) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

// nlohmann's messages start with "[json.exception.parse_error.101] parse error at line 1,
// column 2: "; keep only the part after the location, which is the useful explanation.
std::string ExplainParseError(const std::string& what) {
  const size_t colon = what.find(": ");
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

std::string PointerAppend(absl::string_view pointer, absl::string_view token) {
  std::string out = absl::StrCat(pointer, "/");
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<json> ReadStrictJson(absl::string_view text, std::vector<Diagnostic>& diagnostics) {
  if (text.size() > kMaxSpecBytes) {
    diagnostics.push_back({Severity::kError, "",
                           absl::StrCat("file is larger than ", kMaxSpecBytes, " bytes"),
                           "a spec is a small JSON document; is this the right file?"});
    return std::nullopt;
  }
  if (text.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    diagnostics.push_back({Severity::kError, "", "file is empty", "a spec is a JSON object with "
                                                                  "an \"entrypoints\" member"});
    return std::nullopt;
  }
  // nlohmann's lexer takes a NUL byte for the end of the input, which would hide everything
  // after it; a NUL has no business in a JSON text, so refuse it where it is.
  if (size_t nul = text.find('\0'); nul != absl::string_view::npos) {
    auto [line, column] = LineColumn(text, nul);
    diagnostics.push_back({Severity::kError, "",
                           absl::StrCat("not valid JSON (line ", line, ", column ", column,
                                        "): a NUL byte"),
                           "is this a binary file?"});
    return std::nullopt;
  }
  const size_t before = diagnostics.size();
  StrictDomBuilder builder(diagnostics);
  const bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                                  /*strict=*/true);
  if (!ok && !builder.aborted()) {
    auto [line, column] = LineColumn(text, builder.syntax_error_offset());
    diagnostics.push_back({Severity::kError, "",
                           absl::StrCat("not valid JSON (line ", line, ", column ", column,
                                        "): ", ExplainParseError(builder.syntax_error())),
                           ""});
  }
  if (!ok || diagnostics.size() != before) return std::nullopt;
  return builder.TakeRoot();
}

}  // namespace shim::spec
