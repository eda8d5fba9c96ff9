// The dashboard's web page (index.html, app.js, app.css), compiled into pagefl by
// embed_bundle.cmake. Only these files are ever served as the page.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace pagefl::dashboard {

struct BundleFile {
  const char* path;  // "/app.js"
  const unsigned char* data;
  std::size_t size;
};

const std::vector<BundleFile>& bundleFiles();

// The bundle's file at `path` ("/" is "/index.html"), or null.
const BundleFile* findBundleFile(std::string_view path);

// The Content-Type a file of this name is served with.
const char* contentTypeOf(std::string_view path);

}  // namespace pagefl::dashboard
