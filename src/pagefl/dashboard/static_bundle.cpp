#include "pagefl/dashboard/static_bundle.h"

namespace pagefl::dashboard {

const BundleFile* findBundleFile(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const BundleFile& file : bundleFiles())
    if (path == file.path) return &file;
  return nullptr;
}

const char* contentTypeOf(std::string_view path) {
  auto endsWith = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  if (endsWith(".html")) return "text/html; charset=utf-8";
  if (endsWith(".js")) return "text/javascript; charset=utf-8";
  if (endsWith(".css")) return "text/css; charset=utf-8";
  if (endsWith(".json") || endsWith(".jsonl")) return "application/json; charset=utf-8";
  if (endsWith(".png")) return "image/png";
  if (endsWith(".svg")) return "image/svg+xml";
  if (endsWith(".csv")) return "text/csv; charset=utf-8";
  return "text/plain; charset=utf-8";
}

}  // namespace pagefl::dashboard
