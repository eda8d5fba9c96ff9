// A trained model as a file the field can use: safetensors (core/safetensors.h) with one float32
// tensor per parameter, named and shaped exactly as the state_dict() of the same model in PyTorch
// (python/pagefl_models.py), and a header whose metadata says what the model is: its architecture
// and input shape (enough to rebuild it), whether it is the global model or a site's personalised
// one, the round and seed of the run, the run's config, and the SHA-256 of its parameters as the
// audit log records a published model.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "pagefl/nn/flat_model.h"

namespace pagefl {

struct ModelFileInfo {
  ModelSpec spec;
  std::string kind = "global";  // "global" or "personal"
  std::int64_t client = -1;     // personal: the client (site) it belongs to
  std::int64_t round = 0;       // the round that produced it
  std::int64_t seed = 0;        // run.seed
  std::string algorithm;
  std::string config;             // the run's config as TOML (without a deployment's [deploy] section)
  std::string parameters_sha256;  // of the float32 parameters: the audit log's fingerprint of a model
};

// The file's bytes for `flat`, laid out as `layout`. info.parameters_sha256 is filled in here.
std::string encodeModelFile(const ParamLayout& layout, const torch::Tensor& flat, ModelFileInfo info);

// Writes the model atomically (parent directories are created) and returns the file's SHA-256.
std::string writeModelFile(const std::string& path, const ParamLayout& layout, const torch::Tensor& flat,
                           const ModelFileInfo& info);

struct LoadedModel {
  ModelFileInfo info;
  std::unique_ptr<FlatModel> model;  // rebuilt from info.spec, its parameters loaded
};

// Reads a model file. Throws pagefl::Error naming the file and what to fix: not safetensors, a
// header that lies about its sizes, metadata missing or implausible (an unknown model, a shape no
// model takes), or tensors that do not match the model (a missing or extra name, another shape,
// another dtype), or parameters whose hash is not the one recorded. Sizes are checked against the
// file and against plausible models before anything is allocated.
LoadedModel readModelFile(const std::string& path);
LoadedModel decodeModelFile(std::string_view bytes, const std::string& what);

}  // namespace pagefl
