#!/usr/bin/env bash
# Installs every build and run dependency of pagefl from Debian 12's archive.
# Idempotent: packages already present are skipped, so `make` can call it on every build.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache git
  libtorch-dev                       # tensors and autograd (CPU)
  libopenblas0-pthread               # LibTorch links libblas.so.3; the reference BLAS is ~4x slower
  dataset-fashion-mnist              # default real dataset (IDX files)
  zlib1g-dev                         # gzipped IDX files
  libturbojpeg0-dev                  # Tiny-ImageNet's JPEG images
  gnuplot-nox                        # the comparison report's charts
  chromium                           # tests open the HTML report and drive the dashboard headless
  fonts-noto-core fonts-noto-cjk     # the dashboard's English and Japanese labels in those tests' screenshots
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc  # deployment transport
  libsqlite3-dev                     # the deployed server's audit log
  libopenmpi-dev openmpi-bin         # one simulation sharded over processes and hosts (mpirun)
  libssl-dev openssl                 # SHA-256 of audited updates; scripts/make-certs.sh
  libcpp-httplib-dev                 # the dashboard's HTTP(S) server
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev llvm-14 # `make fuzz`: libFuzzer, AddressSanitizer, its symbolizer
  python3                            # bench/ scripts (hostile inputs, attack table)
  time                               # bench/mpi_memory.sh: each rank's peak memory (/usr/bin/time)
  python3-torch                      # tests load exported models into python/pagefl_models.py
)

missing=()
# The dashboard's front end is bundled with esbuild from npm and tested in chromium through
# playwright-core. A machine whose Node.js came from elsewhere (NodeSource's bundles npm) keeps it;
# Debian's packages serve otherwise.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup.sh: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
