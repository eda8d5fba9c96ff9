#include "pagefl/mpi/mpi_world.h"

#include <mpi.h>

#include <climits>
#include <cstdlib>

#include "pagefl/core/error.h"

namespace pagefl::mpi {
namespace {

void check(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw Error("{} failed: {}", call, std::string(text, static_cast<std::size_t>(length)));
}

int countOf(std::size_t bytes) {
  if (bytes > static_cast<std::size_t>(INT_MAX))
    throw Error("a message of {} bytes is more than one MPI message carries (2 GiB); use fewer clients per rank",
                bytes);
  return static_cast<int>(bytes);
}

}  // namespace

bool launchedByMpirun() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(variable)) return true;
  return false;
}

MpiWorld::MpiWorld(int& argc, char**& argv) {
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  // Simulations may run on a thread other than main (the dashboard's pilot jobs), one at a time.
  if (provided < MPI_THREAD_SERIALIZED) throw Error("this MPI library cannot be called from more than one thread");
  // Errors come back as codes (turned into pagefl::Error) instead of ending the job silently.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

void MpiWorld::broadcast(std::string& bytes, int root) const {
  std::uint64_t size = bytes.size();
  check(MPI_Bcast(&size, 1, MPI_UINT64_T, root, MPI_COMM_WORLD), "MPI_Bcast");
  if (rank_ != root) bytes.resize(static_cast<std::size_t>(countOf(size)));
  check(MPI_Bcast(bytes.data(), countOf(bytes.size()), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
}

void MpiWorld::send(const std::string& bytes, int to, int tag) const {
  check(MPI_Send(bytes.data(), countOf(bytes.size()), MPI_BYTE, to, tag, MPI_COMM_WORLD), "MPI_Send");
}

std::string MpiWorld::receive(int from, int tag, std::int64_t max_bytes) const {
  MPI_Status status;
  check(MPI_Probe(from, tag, MPI_COMM_WORLD, &status), "MPI_Probe");
  int count = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  if (count < 0 || count > max_bytes)
    throw Error("rank {} sent a message of {} bytes where at most {} were expected", from, count, max_bytes);
  std::string bytes(static_cast<std::size_t>(count), '\0');
  check(MPI_Recv(bytes.data(), count, MPI_BYTE, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  return bytes;
}

void MpiWorld::abort(int code) const {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this only satisfies [[noreturn]]
}

}  // namespace pagefl::mpi
